//! Pages from rows. The report is a flow of rows (a line of text, a gap, a rule), each as tall
//! as it needs; rows fill A4 pages top to bottom, a heading never ends a page, a gap never
//! starts one, and every page gets the footer with its number (and, after the first, a running
//! header). A block with a background (the result, code) is a band on each of its rows, so it
//! carries on across a page break.

use krilla::color::rgb::Color;
use krilla::error::KrillaError;
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::Document;

use super::text::{Face, Span, Typefaces};

pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN: f32 = 50.0;
pub const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const TOP: f32 = 56.0;
const HEADER_BASELINE: f32 = 34.0;
const FOOTER_SIZE: f32 = 7.5;
const FOOTER_LEADING: f32 = 10.0;
/// From the page's bottom edge to the last footer line's baseline.
const FOOTER_BOTTOM: f32 = 30.0;

pub const INK: Rgb = Rgb(0x1f, 0x23, 0x28);
pub const MUTED: Rgb = Rgb(0x59, 0x63, 0x6e);
pub const FAINT: Rgb = Rgb(0x8c, 0x95, 0x9f);
pub const RULE: Rgb = Rgb(0xd0, 0xd7, 0xde);

/// A colour (krilla's own cannot be made in a `const`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl From<Rgb> for Color {
    fn from(Rgb(r, g, b): Rgb) -> Color {
        Color::new(r, g, b)
    }
}

/// One line of the flow.
pub struct Row {
    pub height: f32,
    pub marks: Vec<Mark>,
    pub band: Option<Band>,
    /// Goes on the page of the row after it (a heading).
    pub keep_with_next: bool,
    /// Only space: dropped at the top of a page.
    pub gap: bool,
}

impl Row {
    pub fn gap(height: f32, band: Option<Band>) -> Row {
        Row {
            height,
            marks: Vec::new(),
            band,
            keep_with_next: false,
            gap: true,
        }
    }
}

/// Something drawn on a row; `x` from the content's left edge, `y` from the row's top.
pub enum Mark {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        color: Rgb,
        spans: Vec<Span>,
        /// `x` is where the text ends rather than where it starts.
        right_aligned: bool,
    },
    Rule {
        x0: f32,
        x1: f32,
        y: f32,
        color: Rgb,
    },
    /// The hook that marks a wrapped line of code's continuation.
    Continuation { x: f32, baseline: f32 },
}

/// A row's background across the content's width, with an optional coloured bar at its left
/// and an optional divider (a code gutter's) at `gutter`.
#[derive(Clone, Copy)]
pub struct Band {
    pub fill: Rgb,
    pub accent: Option<Rgb>,
    pub gutter: Option<f32>,
}

/// What every page shows around the flow.
pub struct Chrome {
    /// The running header of the pages after the first.
    pub header: String,
    pub footer: String,
    /// The footer links here.
    pub link: String,
}

/// The rows of each page, with each row's top.
fn paginate(rows: &[Row], bottom: f32) -> Vec<Vec<(f32, &Row)>> {
    let mut pages = vec![Vec::new()];
    let mut y = TOP;
    for (i, row) in rows.iter().enumerate() {
        let page = pages.last_mut().expect("a page");
        if row.gap && page.is_empty() {
            continue;
        }
        let mut need = 0.0;
        for next in &rows[i..] {
            need += next.height;
            if !next.keep_with_next {
                break;
            }
        }
        if y + need > bottom && !page.is_empty() {
            pages.push(Vec::new());
            y = TOP;
            if row.gap {
                continue;
            }
        }
        pages.last_mut().expect("a page").push((y, row));
        y += row.height;
    }
    pages
}

/// The PDF of `rows`, paginated, with `chrome` on every page.
pub fn render(
    faces: &Typefaces,
    rows: &[Row],
    chrome: &Chrome,
    metadata: Metadata,
) -> Result<Vec<u8>, KrillaError> {
    let number_width = faces.width(Face::Sans, FOOTER_SIZE, "Page 9999 of 9999");
    let footer = faces.wrap(
        &[Span::new(Face::Sans, chrome.footer.as_str())],
        FOOTER_SIZE,
        CONTENT_WIDTH - number_width - 24.0,
    );
    let footer_top = PAGE_HEIGHT - FOOTER_BOTTOM - footer.len() as f32 * FOOTER_LEADING;
    let pages = paginate(rows, footer_top - 18.0);
    let count = pages.len();

    let mut document = Document::new();
    document.set_metadata(metadata);
    for (index, page_rows) in pages.iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a page size");
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        if index > 0 {
            draw_running_header(&mut surface, faces, &chrome.header);
        }
        for &(top, row) in page_rows {
            if let Some(band) = row.band {
                draw_band(&mut surface, top, row.height, band);
            }
            for mark in &row.marks {
                draw_mark(&mut surface, faces, top, mark);
            }
        }
        let footer_width = draw_footer(&mut surface, faces, &footer, footer_top, index + 1, count);
        surface.finish();
        if chrome.link.starts_with("https://") || chrome.link.starts_with("http://") {
            let area = Rect::from_xywh(
                MARGIN,
                footer_top,
                footer_width,
                footer.len() as f32 * FOOTER_LEADING,
            );
            if let Some(area) = area {
                page.add_annotation(link(area, &chrome.link));
            }
        }
        page.finish();
    }
    document.finish()
}

/// The header of the pages after the first: the report's title, cut to fit, over a rule.
fn draw_running_header(surface: &mut Surface<'_>, faces: &Typefaces, header: &str) {
    let header = elided(faces, header, FOOTER_SIZE, CONTENT_WIDTH);
    text(
        surface,
        faces,
        (MARGIN, HEADER_BASELINE),
        FOOTER_SIZE,
        MUTED,
        &header,
    );
    rule(
        surface,
        (MARGIN, PAGE_WIDTH - MARGIN),
        HEADER_BASELINE + 8.0,
        RULE,
    );
}

/// The footer under a rule: its lines on the left, "Page n of count" on the right. Returns
/// the width of its widest line, the area its link covers.
fn draw_footer(
    surface: &mut Surface<'_>,
    faces: &Typefaces,
    footer: &[Vec<Span>],
    footer_top: f32,
    number: usize,
    count: usize,
) -> f32 {
    rule(
        surface,
        (MARGIN, PAGE_WIDTH - MARGIN),
        footer_top - 8.0,
        RULE,
    );
    let mut footer_width: f32 = 0.0;
    for (i, line) in footer.iter().enumerate() {
        let baseline = footer_top + (i as f32 + 1.0) * FOOTER_LEADING - 2.5;
        let width = text(surface, faces, (MARGIN, baseline), FOOTER_SIZE, MUTED, line);
        footer_width = footer_width.max(width);
    }
    let number = [Span::new(Face::Sans, format!("Page {number} of {count}"))];
    let number_x = PAGE_WIDTH - MARGIN - faces.spans_width(FOOTER_SIZE, &number);
    let baseline = footer_top + FOOTER_LEADING - 2.5;
    text(
        surface,
        faces,
        (number_x, baseline),
        FOOTER_SIZE,
        MUTED,
        &number,
    );
    footer_width
}

fn link(area: Rect, url: &str) -> krilla::annotation::Annotation {
    use krilla::action::LinkAction;
    use krilla::annotation::{Annotation, LinkAnnotation, Target};
    let target = Target::Action(LinkAction::new(url.to_owned()).into());
    Annotation::new_link(LinkAnnotation::new(area, target), Some(url.to_owned()))
}

/// `line` cut to fit `width`, with an ellipsis where it was cut.
fn elided(faces: &Typefaces, line: &str, size: f32, width: f32) -> Vec<Span> {
    let ellipsis = faces.width(Face::Sans, size, "…");
    if faces.width(Face::Sans, size, line) <= width {
        return vec![Span::new(Face::Sans, line)];
    }
    let mut kept = String::new();
    let mut used = ellipsis;
    for c in line.chars() {
        used += faces.width(Face::Sans, size, c.encode_utf8(&mut [0; 4]));
        if used > width {
            break;
        }
        kept.push(c);
    }
    kept.push('…');
    vec![Span::new(Face::Sans, kept)]
}

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: Color::from(color).into(),
        ..Fill::default()
    }
}

fn text(
    surface: &mut Surface<'_>,
    faces: &Typefaces,
    at: (f32, f32),
    size: f32,
    color: Rgb,
    spans: &[Span],
) -> f32 {
    surface.set_fill(Some(fill(color)));
    faces.draw(surface, at, size, spans)
}

fn rule(surface: &mut Surface<'_>, (x0, x1): (f32, f32), y: f32, color: Rgb) {
    rect(surface, (x0, y - 0.25, x1 - x0, 0.5), color);
}

fn rect(surface: &mut Surface<'_>, (x, y, w, h): (f32, f32, f32, f32), color: Rgb) {
    let Some(area) = Rect::from_xywh(x, y, w, h) else {
        return;
    };
    let mut path = PathBuilder::new();
    path.push_rect(area);
    if let Some(path) = path.finish() {
        surface.set_fill(Some(fill(color)));
        surface.draw_path(&path);
    }
}

fn draw_band(surface: &mut Surface<'_>, top: f32, height: f32, band: Band) {
    rect(surface, (MARGIN, top, CONTENT_WIDTH, height), band.fill);
    if let Some(accent) = band.accent {
        rect(surface, (MARGIN, top, 3.0, height), accent);
    }
    if let Some(x) = band.gutter {
        rect(surface, (MARGIN + x - 0.25, top, 0.5, height), RULE);
    }
}

fn draw_mark(surface: &mut Surface<'_>, faces: &Typefaces, top: f32, mark: &Mark) {
    match mark {
        Mark::Text {
            x,
            baseline,
            size,
            color,
            spans,
            right_aligned,
        } => {
            let x = if *right_aligned {
                x - faces.spans_width(*size, spans)
            } else {
                *x
            };
            text(
                surface,
                faces,
                (MARGIN + x, top + baseline),
                *size,
                *color,
                spans,
            );
        }
        Mark::Rule { x0, x1, y, color } => {
            rule(surface, (MARGIN + x0, MARGIN + x1), top + y, *color)
        }
        Mark::Continuation { x, baseline } => {
            let (x, y) = (MARGIN + x, top + baseline);
            let mut path = PathBuilder::new();
            path.move_to(x, y - 6.5);
            path.line_to(x, y - 2.5);
            path.line_to(x + 5.0, y - 2.5);
            path.move_to(x + 3.0, y - 4.5);
            path.line_to(x + 5.0, y - 2.5);
            path.line_to(x + 3.0, y - 0.5);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: Color::from(FAINT).into(),
                    width: 0.6,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(height: f32) -> Row {
        Row {
            height,
            marks: Vec::new(),
            band: None,
            keep_with_next: false,
            gap: false,
        }
    }

    #[test]
    fn rows_fill_pages_and_never_run_past_the_bottom() {
        let rows: Vec<Row> = (0..100).map(|_| line(20.0)).collect();
        let pages = paginate(&rows, 500.0);
        assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 100);
        for page in &pages {
            let (top, row) = page.last().expect("no empty page");
            assert!(top + row.height <= 500.0);
        }
        assert_eq!(pages[0].len(), ((500.0 - TOP) / 20.0) as usize);
    }

    #[test]
    fn a_heading_moves_to_the_next_page_with_its_text_and_gaps_do_not_start_one() {
        let mut rows: Vec<Row> = (0..21).map(|_| line(20.0)).collect();
        rows.push(Row::gap(10.0, None));
        rows.push(Row {
            keep_with_next: true,
            ..line(20.0)
        });
        rows.push(line(20.0));
        // 21 rows end at 476; the gap fits (486), the heading would too (506 > 500: not).
        let pages = paginate(&rows, 500.0);
        assert_eq!(pages.len(), 2);
        assert!(pages[1][0].1.keep_with_next, "the heading starts page 2");
        assert_eq!(pages[1].len(), 2);
    }
}
