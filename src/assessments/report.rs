//! The assessment report: a PDF of a scored assessment (who, which question, the score and
//! result, the prompt, the submitted code, the timeline) for the candidate's Lever opportunity
//! and for download. A4, in DejaVu Sans and Sans Mono (embedded, subset); as many pages as the
//! submission needs, each with the assessment's address and "Page n of m" in its footer.
//!
//! Any text the report is given survives into it: Markdown in the prompt is read, not shown;
//! characters the fonts lack show as a replacement glyph; control characters other than line
//! breaks and tabs are dropped.

mod document;
mod layout;
mod markdown;
mod text;

use chrono::NaiveDateTime;
use krilla::metadata::Metadata;

pub const CONTENT_TYPE: &str = "application/pdf";

/// Everything the report shows; the caller gathers it.
pub struct Report<'a> {
    /// The leverbridge organization's name.
    pub organization: &'a str,
    pub candidate_name: &'a str,
    pub question_title: &'a str,
    /// Markdown as the reviewer wrote it; shown as plain text.
    pub question_prompt: &'a str,
    /// The question's language, e.g. "python" (shown as "Python").
    pub language: &'a str,
    /// The submitted code; may be empty.
    pub submission: &'a str,
    /// 0–100.
    pub score: i32,
    /// "Passed" or "Failed".
    pub result: &'a str,
    /// May run over several lines.
    pub failure_reason: Option<&'a str>,
    /// The reviewer's e-mail address.
    pub scored_by: &'a str,
    /// UTC.
    pub scored_at: NaiveDateTime,
    /// What happened and when (UTC), in order.
    pub timeline: &'a [(NaiveDateTime, String)],
    /// What automatic grading found: a summary line, then a line per case.
    pub grading: Option<&'a str>,
    /// The assessment's page on leverbridge.
    pub detail_url: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("Failed to write the report's PDF")]
    Pdf(#[from] krilla::error::KrillaError),
}

/// The report as a PDF. CPU-bound work: call it off the async threads.
pub fn render(report: &Report<'_>) -> Result<Vec<u8>, ReportError> {
    let faces = text::Typefaces::load();
    let rows = document::rows(report, &faces);
    let candidate = text::clean(report.candidate_name);
    let chrome = layout::Chrome {
        header: format!("Assessment report  ·  {candidate}"),
        footer: format!("leverbridge  ·  {}", text::clean(report.detail_url)),
        link: report.detail_url.trim().to_owned(),
    };
    let metadata = Metadata::new()
        .title(format!("Assessment report: {candidate}"))
        .description(format!(
            "{} · {} / 100 · {}",
            text::clean(report.question_title),
            report.score,
            text::clean(report.result)
        ))
        .creator("leverbridge".to_owned())
        .language("en".to_owned());
    Ok(layout::render(&faces, &rows, &chrome, metadata)?)
}

/// The report's file name, e.g. `leverbridge-report-grace-hopper-3b1f2a9c0d11.pdf`: the
/// candidate's name in lower-case ASCII ("candidate" when nothing is left of it) and the last
/// 12 characters of the assessment's id. Ids are UUIDv7, whose first characters are the time
/// they were made and whose last are random: the file name tells one assessment's report from
/// another's, which is how a rerun finds a report it already attached.
pub fn file_name(candidate_name: &str, assessment_id: &str) -> String {
    let mut slug = String::new();
    for c in candidate_name.chars().flat_map(ascii_letters) {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.truncate(48);
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "candidate" } else { slug };
    let id: String = assessment_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let id = &id[id.len().saturating_sub(12)..];
    match id.is_empty() {
        true => format!("leverbridge-report-{slug}.pdf"),
        false => format!("leverbridge-report-{slug}-{}.pdf", id.to_ascii_lowercase()),
    }
}

/// `c` in ASCII letters where a reader would spell it so ("é" → "e", "ß" → "ss"); other
/// characters as they are.
fn ascii_letters(c: char) -> Vec<char> {
    use unicode_normalization::UnicodeNormalization;
    let spelled = match c {
        'Ł' => "L",
        'ł' => "l",
        'Ø' => "O",
        'ø' => "o",
        'Đ' | 'Ð' => "D",
        'đ' | 'ð' => "d",
        'Æ' => "AE",
        'æ' => "ae",
        'Œ' => "OE",
        'œ' => "oe",
        'ß' => "ss",
        'Þ' => "Th",
        'þ' => "th",
        'ı' => "i",
        'Ħ' => "H",
        'ħ' => "h",
        _ => return c.nfd().filter(|d| !is_mark(*d)).collect(),
    };
    spelled.chars().collect()
}

/// A combining mark, as NFD leaves after a base letter.
fn is_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, day)
            .and_then(|d| d.and_hms_opt(hour, minute, 0))
            .expect("a date")
    }

    const PROMPT: &str = "## Two sum\n\nGiven a list of *numbers* and a **target**, return the \
        indices of the two numbers that add up to `target`.\n\n- Each input has exactly one \
        solution.\n- You may not use the same element twice.\n\n```python\nsolve([2, 7, 11], 9)\n```\n\n\
        Read [the notes](https://example.com/notes) first.";

    fn sample<'a>(submission: &'a str, timeline: &'a [(NaiveDateTime, String)]) -> Report<'a> {
        Report {
            organization: "Acme Corp",
            candidate_name: "Grace Hopper",
            question_title: "Two Sum Variations",
            question_prompt: PROMPT,
            language: "python",
            submission,
            score: 85,
            result: "Failed",
            failure_reason: Some("Misses the empty-list case.\nQuadratic on large inputs."),
            scored_by: "reviewer@acme.example",
            scored_at: at(1, 17, 20),
            timeline,
            grading: None,
            detail_url:
                "https://leverbridge.example.com/assessments/0193ab12-7c1d-7e55-9f00-3b1f2a9c0d11",
        }
    }

    fn timeline() -> Vec<(NaiveDateTime, String)> {
        vec![
            (at(1, 9, 5), "Candidate invited".to_owned()),
            (at(1, 10, 12), "Candidate started the assessment".to_owned()),
            (at(1, 11, 48), "Candidate submitted".to_owned()),
        ]
    }

    /// The PDF's text with all whitespace removed: pdf-extract puts its own spaces and line
    /// breaks between pieces of text, so tests compare without them.
    fn text_of(pdf: &[u8]) -> String {
        let text = pdf_extract::extract_text_from_mem(pdf).expect("pdf-extract reads the report");
        squash(&text)
    }

    fn squash(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn assert_shows(text: &str, wanted: &str) {
        assert!(
            text.contains(&squash(wanted)),
            "the report should show {wanted:?}; its text is:\n{text}"
        );
    }

    #[test]
    fn the_report_shows_what_automatic_grading_found() {
        let timeline = timeline();
        let grading = "Test cases: passed 2 of 3 cases (score 67)\n1. Passed (0.04 s)\n2. Passed (0.05 s)\n3. Wrong answer, hidden case (0.04 s)";
        let report = Report {
            grading: Some(grading),
            ..sample("print(1)\n", &timeline)
        };
        let text = text_of(&render(&report).expect("a PDF"));
        for wanted in [
            "Test cases",
            "passed 2 of 3 cases (score 67)",
            "3. Wrong answer, hidden case (0.04 s)",
        ] {
            assert_shows(&text, wanted);
        }
        let without = text_of(&render(&sample("print(1)\n", &timeline)).expect("a PDF"));
        assert!(!without.contains(&squash("passed 2 of 3")), "{without}");
    }

    #[test]
    fn the_report_shows_every_field() {
        let submission = "def solve(numbers, target):\n    seen = {}\n    return None\n";
        let timeline = timeline();
        let report = sample(submission, &timeline);
        let pdf = render(&report).expect("a PDF");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = text_of(&pdf);
        for wanted in [
            "Assessment report",
            "Grace Hopper",
            "Two Sum Variations",
            "Python",
            "Acme Corp",
            "85 / 100",
            "Failed",
            "Misses the empty-list case.",
            "Quadratic on large inputs.",
            "Scored by reviewer@acme.example on 1 Dec 2026 17:20 UTC",
            // The prompt, its markup gone.
            "Given a list of numbers and a target, return the indices",
            "add up to target.",
            "• Each input has exactly one solution.",
            "• You may not use the same element twice.",
            "solve([2, 7, 11], 9)",
            "Read the notes (https://example.com/notes) first.",
            // The submission, numbered.
            "1 def solve(numbers, target):",
            "2 seen = {}",
            "3 return None",
            // The timeline.
            "1 Dec 2026 09:05 Candidate invited",
            "1 Dec 2026 10:12 Candidate started the assessment",
            "1 Dec 2026 11:48 Candidate submitted",
            // The footer.
            "leverbridge · https://leverbridge.example.com/assessments/0193ab12-7c1d-7e55-9f00-3b1f2a9c0d11",
            "Page 1 of 1",
        ] {
            assert_shows(&text, wanted);
        }
        for markup in ["**", "##", "*numbers*", "`target`", "](", "```"] {
            assert!(!text.contains(markup), "{markup:?} left in:\n{text}");
        }
        assert!(
            pdf.len() < 200_000,
            "the fonts are subset: {} bytes",
            pdf.len()
        );
    }

    #[test]
    fn a_long_submission_runs_over_pages_and_keeps_every_line() {
        let lines: Vec<String> = (1..=500)
            .map(|i| match i % 50 {
                0 => format!("long_{i} = \"{}\"", "abcdefghij".repeat(30)),
                _ => format!("value_{i} = compute({i}, \"row {i}\")"),
            })
            .collect();
        let submission = lines.join("\n");
        let timeline = timeline();
        let report = sample(&submission, &timeline);
        let pdf = render(&report).expect("a PDF");
        let pages = pdf_extract::extract_text_from_mem_by_pages(&pdf).expect("pages");
        let count = pages.len();
        assert!(count > 1, "{count} pages");
        for (i, page) in pages.iter().enumerate() {
            assert_shows(&squash(page), &format!("Page {} of {count}", i + 1));
        }
        // Each page's header and footer, taken out, leave the flow whole: a wrapped line's
        // pieces then read on, even across a page break.
        let mut flow = text_of(&pdf);
        for n in 1..=count {
            flow = flow.replacen(&format!("Page{n}of{count}"), "", 1);
        }
        flow = flow
            .replace(&squash(&format!("leverbridge · {}", report.detail_url)), "")
            .replace(&squash("Assessment report · Grace Hopper"), "");
        for (i, line) in lines.iter().enumerate() {
            let numbered = format!("{}{}", i + 1, squash(line));
            assert!(flow.contains(&numbered), "line {} is missing", i + 1);
        }
        let last = lines.last().expect("500 lines");
        assert!(last.len() > 300, "the last line is one of the long ones");
        assert!(flow.contains(&format!("500{}", squash(last))));
        assert_shows(&flow, "Candidate submitted");
    }

    #[test]
    fn real_world_characters_survive() {
        let timeline = vec![
            (
                at(2, 8, 0),
                "Reviewer said “great work” 🎉 and moved on".to_owned(),
            ),
            (at(2, 9, 0), "Bell\u{7} and escape\u{1b} dropped".to_owned()),
        ];
        let report = Report {
            candidate_name: "Łukasz Żółć",
            question_title: "‘Fast’ & “safe” <T> parsing",
            question_prompt: "Return a `Vec<String>` if a < b && c > d.",
            submission: "if a < b and c > d:\n\tprint(\"naïve café\")  # “quoted” & <tag>",
            failure_reason: Some("Crashes on “ünïcödé” — see <input> & more"),
            ..sample("", &timeline)
        };
        let text = text_of(&render(&report).expect("a PDF"));
        for wanted in [
            "Łukasz Żółć",
            "‘Fast’ & “safe” <T> parsing",
            "Return a Vec<String> if a < b && c > d.",
            "1 if a < b and c > d:",
            "2 print(\"naïve café\") # “quoted” & <tag>",
            "Crashes on “ünïcödé” — see <input> & more",
            "Reviewer said “great work”",
            "and moved on",
            "Bell and escape dropped",
        ] {
            assert_shows(&text, wanted);
        }
    }

    #[test]
    fn an_empty_submission_says_no_code_was_saved() {
        let timeline = timeline();
        for submission in ["", "\n  \n"] {
            let text = text_of(&render(&sample(submission, &timeline)).expect("a PDF"));
            assert_shows(&text, "No code was saved.");
            assert_shows(&text, "Page 1 of 1");
        }
    }

    #[test]
    fn the_error_can_cross_threads_for_the_job_that_renders() {
        fn sendable<E: std::error::Error + Send + Sync + 'static>() {}
        sendable::<ReportError>();
    }

    #[test]
    fn file_names_are_ascii_slugs_with_the_ids_random_end() {
        let id = "0193ab12-7c1d-7e55-9f00-3b1f2a9c0d11";
        assert_eq!(
            file_name("Grace Hopper", id),
            "leverbridge-report-grace-hopper-3b1f2a9c0d11.pdf"
        );
        assert_eq!(
            file_name("Łukasz Żółć", id),
            "leverbridge-report-lukasz-zolc-3b1f2a9c0d11.pdf"
        );
        assert_eq!(
            file_name("  José O'Brien-Straße ", id),
            "leverbridge-report-jose-o-brien-strasse-3b1f2a9c0d11.pdf"
        );
        assert_eq!(
            file_name("", id),
            "leverbridge-report-candidate-3b1f2a9c0d11.pdf"
        );
        assert_eq!(
            file_name("李小龍 🎉", id),
            "leverbridge-report-candidate-3b1f2a9c0d11.pdf"
        );
        assert_eq!(
            file_name("Grace Hopper", "ab12"),
            "leverbridge-report-grace-hopper-ab12.pdf"
        );
    }

    /// Writes a realistic report to `target/report-sample.pdf` to look at:
    /// `cargo test --lib report::tests::sample_report -- --ignored`.
    #[test]
    #[ignore]
    fn sample_report() {
        let mut code = String::from("\"\"\"Two sum variations: indices, pairs and counts.\"\"\"\n\nfrom collections import defaultdict\nfrom typing import Iterable\n\n");
        let mut n = 0;
        while code.lines().count() < 118 {
            n += 1;
            code.push_str(&format!(
                "def variant_{n}(numbers: list[int], target: int) -> list[tuple[int, int]]:\n\
                 \t\"\"\"Pairs of indices whose values add up to target (variant {n}).\"\"\"\n\
                 \tseen: dict[int, list[int]] = defaultdict(list)\n\
                 \tpairs = []\n\
                 \tfor i, value in enumerate(numbers):\n\
                 \t\tfor j in seen.get(target - value, []):\n\
                 \t\t\tpairs.append((j, i))  # a deliberately long comment that explains why the order of j and i matters here\n\
                 \t\tseen[value].append(i)\n\
                 \treturn pairs\n\n"
            ));
        }
        let mut code: Vec<&str> = code.lines().take(117).collect();
        code.extend([
            "",
            "if __name__ == \"__main__\":",
            "    print(variant_1([2, 7, 11, 15], 9))",
        ]);
        let code = code.join("\n");
        let events = [
            "Invited: the link was created",
            "Started by the candidate; the time runs out at 1 Mar 11:00 UTC",
            "Saved snapshot 1 (40 lines), 1.2 KB",
            "Asked to run the visible tests: passed 2 of 3",
            "Saved snapshot 2 (117 lines), 4.1 KB",
            "Asked to run the visible tests: passed 3 of 3",
            "Submitted by the candidate",
            "Scored 85/100, failed by reviewer@acme.example",
        ];
        let timeline: Vec<_> = events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                (
                    at(1, 9 + i as u32 / 2, (i as u32 * 17) % 60),
                    (*e).to_owned(),
                )
            })
            .collect();
        let report = Report {
            failure_reason: Some("Correct on the examples, but misses the empty-list case and duplicates.\nQuadratic on large inputs: 12 s on the 10⁵-element test, limit 2 s."),
            ..sample(&code, &timeline)
        };
        let pdf = render(&report).expect("a PDF");
        std::fs::write(
            concat!(env!("CARGO_MANIFEST_DIR"), "/target/report-sample.pdf"),
            pdf,
        )
        .expect("target/ is writable");
    }
}
