//! What the report says, top to bottom, as rows: the title block, the result, the question,
//! the submission and the timeline.

use chrono::NaiveDateTime;

use super::layout::{Band, Mark, Rgb, Row, CONTENT_WIDTH, FAINT, INK, MUTED, RULE};
use super::markdown::{self, Block};
use super::text::{clean, expand_tabs, Face, Span, Typefaces};
use super::Report;
use crate::db::questions::Language;

const BODY: Style = Style::new(10.0, 14.5, INK);
const SMALL: Style = Style::new(8.5, 12.0, MUTED);
const CODE: Style = Style::new(8.0, 10.8, INK);
const PASS: Rgb = Rgb(0x1a, 0x7f, 0x37);
const PASS_TINT: Rgb = Rgb(0xee, 0xf8, 0xf0);
const FAIL: Rgb = Rgb(0xcf, 0x22, 0x2e);
const FAIL_TINT: Rgb = Rgb(0xfd, 0xf0, 0xef);
const NEUTRAL_TINT: Rgb = Rgb(0xf3, 0xf4, 0xf6);
const CODE_TINT: Rgb = Rgb(0xf6, 0xf8, 0xfa);
/// Inside a band: from its left edge (past the accent bar) and to its right edge.
const INSET: f32 = 16.0;
/// The time column of the timeline.
const TIME_WIDTH: f32 = 112.0;
const LIST_INDENT: f32 = 18.0;

#[derive(Clone, Copy)]
struct Style {
    size: f32,
    leading: f32,
    color: Rgb,
}

impl Style {
    const fn new(size: f32, leading: f32, color: Rgb) -> Style {
        Style {
            size,
            leading,
            color,
        }
    }

    const fn with(self, color: Rgb) -> Style {
        Style { color, ..self }
    }

    /// Where the baseline sits in a row of this style: capitals centred in the row.
    fn baseline(self) -> f32 {
        (self.leading + self.size * 0.72) / 2.0
    }
}

/// The date and time the report shows, e.g. "1 Dec 2026 17:20".
pub fn when(at: NaiveDateTime) -> String {
    at.format("%-d %b %Y %H:%M").to_string()
}

struct Flow<'f> {
    faces: &'f Typefaces,
    rows: Vec<Row>,
}

impl Flow<'_> {
    fn gap(&mut self, height: f32) {
        self.rows.push(Row::gap(height, None));
    }

    fn banded_gap(&mut self, height: f32, band: Band) {
        self.rows.push(Row::gap(height, Some(band)));
    }

    fn row(&mut self, style: Style, marks: Vec<Mark>, band: Option<Band>) {
        self.rows.push(Row {
            height: style.leading,
            marks,
            band,
            keep_with_next: false,
            gap: false,
        });
    }

    fn text_mark(style: Style, x: f32, spans: Vec<Span>) -> Mark {
        Mark::Text {
            x,
            baseline: style.baseline(),
            size: style.size,
            color: style.color,
            spans,
            right_aligned: false,
        }
    }

    /// Wrapped text from `x` to `right`; `first` goes on its first row too (a list marker).
    fn text_between(
        &mut self,
        spans: &[Span],
        style: Style,
        (x, right): (f32, f32),
        band: Option<Band>,
        mut first: Vec<Mark>,
    ) {
        for line in self.faces.wrap(spans, style.size, right - x) {
            let mut marks = std::mem::take(&mut first);
            marks.push(Self::text_mark(style, x, line));
            self.row(style, marks, band);
        }
    }

    fn text(&mut self, text: &str, face: Face, style: Style, x: f32) {
        self.text_between(
            &[Span::new(face, text)],
            style,
            (x, CONTENT_WIDTH),
            None,
            Vec::new(),
        );
    }

    /// A section's title with a rule under it, kept on the page of what follows; `aside` in
    /// small print at the right.
    fn heading(&mut self, title: &str, aside: Option<String>) {
        self.gap(22.0);
        let style = Style::new(12.5, 20.0, INK);
        let mut marks = vec![Self::text_mark(
            style,
            0.0,
            vec![Span::new(Face::Bold, title)],
        )];
        if let Some(aside) = aside {
            marks.push(Mark::Text {
                x: CONTENT_WIDTH,
                baseline: style.baseline(),
                size: SMALL.size,
                color: MUTED,
                spans: vec![Span::new(Face::Sans, aside)],
                right_aligned: true,
            });
        }
        marks.push(Mark::Rule {
            x0: 0.0,
            x1: CONTENT_WIDTH,
            y: style.leading + 2.0,
            color: RULE,
        });
        self.rows.push(Row {
            height: style.leading + 10.0,
            marks,
            band: None,
            keep_with_next: true,
            gap: false,
        });
    }

    /// Lines of code on a tinted band; with `numbers`, each source line numbered in a gutter.
    /// A line too long for the page wraps; its continuations carry a hook instead of a number.
    fn code(&mut self, lines: &[String], numbers: bool) {
        let digit = self.faces.width(Face::Mono, CODE.size, "0");
        let digits = lines.len().to_string().len().max(2) as f32;
        let gutter = if numbers { digits * digit + 14.0 } else { 0.0 };
        let x = gutter + 10.0;
        let band = Band {
            fill: CODE_TINT,
            accent: None,
            gutter: numbers.then_some(gutter),
        };
        self.banded_gap(6.0, band);
        for (i, line) in lines.iter().enumerate() {
            let line = expand_tabs(line);
            let line = line.trim_end();
            let pieces = self
                .faces
                .wrap_code(line, CODE.size, CONTENT_WIDTH - x - 8.0);
            for (j, piece) in pieces.into_iter().enumerate() {
                let mut marks = Vec::new();
                if j > 0 {
                    // In the gutter where a number would be, else just before the code.
                    let hook = if numbers { gutter - 11.0 } else { x - 8.0 };
                    marks.push(Mark::Continuation {
                        x: hook,
                        baseline: CODE.baseline(),
                    });
                } else if numbers {
                    marks.push(Mark::Text {
                        x: gutter - 6.0,
                        baseline: CODE.baseline(),
                        size: CODE.size,
                        color: FAINT,
                        spans: vec![Span::new(Face::Mono, (i + 1).to_string())],
                        right_aligned: true,
                    });
                }
                marks.push(Self::text_mark(CODE, x, vec![Span::new(Face::Mono, piece)]));
                self.row(CODE, marks, Some(band));
            }
        }
        self.banded_gap(6.0, band);
    }
}

/// The report's rows.
pub fn rows(report: &Report<'_>, faces: &Typefaces) -> Vec<Row> {
    let mut flow = Flow {
        faces,
        rows: Vec::new(),
    };
    title(&mut flow, report);
    result(&mut flow, report);
    test_cases(&mut flow, report);
    question(&mut flow, report);
    submission(&mut flow, report);
    timeline(&mut flow, report);
    flow.rows
}

fn language_label(language: &str) -> &str {
    match Language::parse(language) {
        Ok(known) => known.label(),
        Err(_) => language,
    }
}

fn title(flow: &mut Flow<'_>, report: &Report<'_>) {
    flow.text(
        "Assessment report",
        Face::Bold,
        Style::new(20.0, 28.0, INK),
        0.0,
    );
    flow.text(
        &clean(report.candidate_name),
        Face::Sans,
        Style::new(15.0, 21.0, INK),
        0.0,
    );
    flow.gap(3.0);
    let about = [
        clean(report.question_title),
        language_label(&clean(report.language)).to_owned(),
        clean(report.organization),
    ];
    let about: Vec<String> = about.into_iter().filter(|s| !s.trim().is_empty()).collect();
    flow.text(&about.join("  ·  "), Face::Sans, BODY.with(MUTED), 0.0);
}

fn result(flow: &mut Flow<'_>, report: &Report<'_>) {
    let result = clean(report.result);
    let (accent, tint) = match result.trim() {
        "Passed" => (PASS, PASS_TINT),
        "Failed" => (FAIL, FAIL_TINT),
        _ => (MUTED, NEUTRAL_TINT),
    };
    let band = Band {
        fill: tint,
        accent: Some(accent),
        gutter: None,
    };
    let inside = (INSET, CONTENT_WIDTH - INSET);
    flow.gap(16.0);
    flow.banded_gap(12.0, band);
    let big = Style::new(22.0, 30.0, INK);
    let score = format!("{} / 100", report.score);
    let result_x = INSET + flow.faces.width(Face::Bold, big.size, &score) + 14.0;
    let marks = vec![
        Flow::text_mark(big, INSET, vec![Span::new(Face::Bold, score)]),
        Mark::Text {
            x: result_x,
            baseline: big.baseline(),
            size: 13.0,
            color: accent,
            spans: vec![Span::new(Face::Bold, result)],
            right_aligned: false,
        },
    ];
    flow.row(big, marks, Some(band));
    if let Some(reason) = report.failure_reason.map(clean) {
        if !reason.trim().is_empty() {
            flow.banded_gap(6.0, band);
            let label = [Span::new(Face::Bold, "Reason")];
            flow.text_between(&label, SMALL, inside, Some(band), Vec::new());
            let reason = [Span::new(Face::Sans, reason.trim())];
            flow.text_between(&reason, BODY, inside, Some(band), Vec::new());
        }
    }
    flow.banded_gap(8.0, band);
    let scored = format!(
        "Scored by {} on {} UTC",
        clean(report.scored_by),
        when(report.scored_at)
    );
    let scored = [Span::new(Face::Sans, scored)];
    flow.text_between(&scored, SMALL, inside, Some(band), Vec::new());
    flow.banded_gap(12.0, band);
}

/// What automatic grading found, when it graded the submission.
fn test_cases(flow: &mut Flow<'_>, report: &Report<'_>) {
    let Some(grading) = report.grading else {
        return;
    };
    flow.heading("Test cases", None);
    let mut lines = grading.lines();
    if let Some(summary) = lines.next() {
        let summary = summary.trim_start_matches("Test cases: ");
        flow.text(&clean(summary), Face::Bold, BODY, 0.0);
        flow.gap(3.0);
    }
    for line in lines {
        flow.text(&clean(line), Face::Sans, BODY, 0.0);
    }
}

fn question(flow: &mut Flow<'_>, report: &Report<'_>) {
    flow.heading("Question", None);
    let title = clean(report.question_title);
    if !title.trim().is_empty() {
        flow.text(&title, Face::Bold, Style::new(11.0, 16.0, INK), 0.0);
        flow.gap(4.0);
    }
    let blocks = markdown::blocks(&clean(report.question_prompt));
    if blocks.is_empty() {
        flow.text("No prompt was written.", Face::Sans, BODY.with(MUTED), 0.0);
    }
    for block in blocks {
        match block {
            Block::Paragraph {
                spans,
                depth,
                marker,
                quoted,
            } => {
                let quote = if quoted { 14.0 } else { 0.0 };
                let x = quote + depth as f32 * LIST_INDENT;
                let style = if quoted { BODY.with(MUTED) } else { BODY };
                let marker = marker.map(|m| Mark::Text {
                    x: x - 5.0,
                    baseline: BODY.baseline(),
                    size: BODY.size,
                    color: INK,
                    spans: vec![Span::new(Face::Sans, m.trim_end())],
                    right_aligned: true,
                });
                let first = marker.into_iter().collect();
                flow.text_between(&spans, style, (x, CONTENT_WIDTH), None, first);
                flow.gap(if depth > 0 { 3.0 } else { 6.0 });
            }
            Block::Heading(spans) => {
                flow.gap(4.0);
                let bold: Vec<Span> = spans
                    .into_iter()
                    .map(|s| match s.face {
                        Face::Mono => s,
                        _ => Span::new(Face::Bold, s.text),
                    })
                    .collect();
                let style = Style::new(10.5, 15.0, INK);
                flow.text_between(&bold, style, (0.0, CONTENT_WIDTH), None, Vec::new());
                flow.gap(3.0);
            }
            Block::Code(lines) => {
                flow.code(&lines, false);
                flow.gap(6.0);
            }
            Block::Rule => flow.row(
                Style::new(1.0, 12.0, INK),
                vec![Mark::Rule {
                    x0: 0.0,
                    x1: CONTENT_WIDTH,
                    y: 6.0,
                    color: RULE,
                }],
                None,
            ),
        }
    }
}

fn submission(flow: &mut Flow<'_>, report: &Report<'_>) {
    let code = clean(report.submission);
    let lines: Vec<String> = code.lines().map(str::to_owned).collect();
    let blank = lines.iter().all(|l| l.trim().is_empty());
    let language = language_label(&clean(report.language)).to_owned();
    let aside = match lines.len() {
        _ if blank => language,
        1 => format!("{language}  ·  1 line"),
        n => format!("{language}  ·  {n} lines"),
    };
    flow.heading("Submission", Some(aside));
    if blank {
        flow.text("No code was saved.", Face::Sans, BODY.with(MUTED), 0.0);
    } else {
        flow.code(&lines, true);
    }
}

fn timeline(flow: &mut Flow<'_>, report: &Report<'_>) {
    flow.heading("The candidate's work", None);
    if report.timeline.is_empty() {
        flow.text("Nothing was recorded.", Face::Sans, BODY.with(MUTED), 0.0);
        return;
    }
    let label = SMALL.with(MUTED);
    let labels = vec![
        Flow::text_mark(label, 0.0, vec![Span::new(Face::Bold, "Time (UTC)")]),
        Flow::text_mark(
            label,
            TIME_WIDTH,
            vec![Span::new(Face::Bold, "What happened")],
        ),
    ];
    flow.row(label, labels, None);
    flow.rows.last_mut().expect("the labels").keep_with_next = true;
    let style = Style::new(9.5, 13.5, INK);
    for (at, what) in report.timeline {
        let entry = flow.rows.len();
        flow.rows.push(Row {
            height: 5.0,
            marks: vec![Mark::Rule {
                x0: 0.0,
                x1: CONTENT_WIDTH,
                y: 0.0,
                color: RULE,
            }],
            band: None,
            keep_with_next: false,
            gap: true,
        });
        let time = Flow::text_mark(
            style.with(MUTED),
            0.0,
            vec![Span::new(Face::Sans, when(*at))],
        );
        let what = [Span::new(Face::Sans, clean(what))];
        flow.text_between(&what, style, (TIME_WIDTH, CONTENT_WIDTH), None, vec![time]);
        // An entry stays on one page.
        let last = flow.rows.len() - 1;
        for row in &mut flow.rows[entry..last] {
            row.keep_with_next = true;
        }
        flow.gap(3.0);
    }
}
