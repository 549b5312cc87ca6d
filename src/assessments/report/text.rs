//! The report's typefaces (DejaVu, embedded, licence in `static/fonts/`) and the text work that
//! needs their metrics: cleaning input, measuring by glyph advances, wrapping, and turning text
//! into the glyphs krilla draws.
//!
//! The report lays out its own glyphs, one per character from the font's character map with the
//! font's own advance, so what is measured is exactly what is drawn. A character the face lacks
//! comes from DejaVu Sans, else shows as U+FFFD; the PDF's text layer still maps that glyph back
//! to the original character.

use std::ops::Range;

use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

const SANS: &[u8] = include_bytes!("../../../static/fonts/DejaVuSans.ttf");
const SANS_BOLD: &[u8] = include_bytes!("../../../static/fonts/DejaVuSans-Bold.ttf");
const MONO: &[u8] = include_bytes!("../../../static/fonts/DejaVuSansMono.ttf");

/// Columns between tab stops in code.
const TAB_WIDTH: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Face {
    Sans,
    Bold,
    Mono,
}

impl Face {
    fn index(self) -> usize {
        self as usize
    }
}

/// Text in one face.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub face: Face,
    pub text: String,
}

impl Span {
    pub fn new(face: Face, text: impl Into<String>) -> Span {
        Span {
            face,
            text: text.into(),
        }
    }
}

/// A character as drawn: the face whose glyph shows it, the glyph, its advance in ems and
/// where the character sits in its text.
struct Placed {
    face: Face,
    glyph: u32,
    advance: f32,
    range: Range<usize>,
}

struct Typeface {
    pdf: Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Typeface {
    fn load(data: &'static [u8]) -> Typeface {
        let font = FontRef::new(data).expect("the embedded DejaVu font parses");
        let units_per_em = font
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        Typeface {
            pdf: Font::new(data.into(), 0).expect("krilla reads the embedded DejaVu font"),
            charmap: font.charmap(),
            metrics: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em,
        }
    }

    fn glyph(&self, c: char) -> Option<(u32, f32)> {
        let glyph = self.charmap.map(c).filter(|g| g.to_u32() != 0)?;
        let advance = self.metrics.advance_width(glyph).unwrap_or(0.0) / self.units_per_em;
        Some((glyph.to_u32(), advance))
    }
}

/// The three faces the report uses.
pub struct Typefaces([Typeface; 3]);

impl Typefaces {
    pub fn load() -> Typefaces {
        Typefaces([
            Typeface::load(SANS),
            Typeface::load(SANS_BOLD),
            Typeface::load(MONO),
        ])
    }

    fn get(&self, face: Face) -> &Typeface {
        &self.0[face.index()]
    }

    /// The glyph that shows `c` in `face`: its own, DejaVu Sans's, or a replacement; none for
    /// a character that takes no room (a zero-width space, a variation selector).
    fn place(&self, face: Face, c: char) -> Option<(Face, u32, f32)> {
        let found = |c: char| {
            [face, Face::Sans]
                .into_iter()
                .find_map(|f| self.get(f).glyph(c).map(|(g, a)| (f, g, a)))
        };
        if let Some(placed) = found(c) {
            return Some(placed);
        }
        if takes_no_room(c) {
            return None;
        }
        found('\u{FFFD}').or_else(|| found('?'))
    }

    fn placed(&self, face: Face, text: &str) -> Vec<Placed> {
        text.char_indices()
            .filter_map(|(i, c)| {
                let (face, glyph, advance) = self.place(face, c)?;
                Some(Placed {
                    face,
                    glyph,
                    advance,
                    range: i..i + c.len_utf8(),
                })
            })
            .collect()
    }

    fn advance(&self, face: Face, c: char) -> f32 {
        self.place(face, c).map_or(0.0, |(_, _, a)| a)
    }

    /// The width of `text` in `face` at `size` points.
    pub fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        text.chars().map(|c| self.advance(face, c)).sum::<f32>() * size
    }

    pub fn spans_width(&self, size: f32, spans: &[Span]) -> f32 {
        spans
            .iter()
            .map(|s| self.width(s.face, size, &s.text))
            .sum()
    }

    /// Breaks prose into lines no wider than `width`: at spaces (runs of them collapse), at
    /// each `\n`, and inside a word only when the word alone is too wide.
    pub fn wrap(&self, spans: &[Span], size: f32, width: f32) -> Vec<Vec<Span>> {
        let chars: Vec<(Face, char)> = spans
            .iter()
            .flat_map(|s| s.text.chars().map(move |c| (s.face, c)))
            .collect();
        let mut lines = Vec::new();
        for hard_line in chars.split(|&(_, c)| c == '\n') {
            let mut line: Vec<(Face, char)> = Vec::new();
            let mut line_width = 0.0;
            let words = hard_line
                .split(|&(_, c)| c == ' ' || c == '\t')
                .filter(|w| !w.is_empty());
            for word in words {
                let word_width: f32 = word.iter().map(|&(f, c)| self.advance(f, c)).sum::<f32>();
                let word_width = word_width * size;
                // A space between two faces is the body's.
                let space_face = match line.last() {
                    Some(&(f, _)) if f == word[0].0 => f,
                    _ => Face::Sans,
                };
                let space = self.advance(space_face, ' ') * size;
                if !line.is_empty() && line_width + space + word_width <= width {
                    line.push((space_face, ' '));
                    line.extend_from_slice(word);
                    line_width += space + word_width;
                    continue;
                }
                // A word too wide for any line (an address) starts where the line is.
                let first = self.advance(word[0].0, word[0].1) * size;
                if !line.is_empty() && word_width > width && line_width + space + first <= width {
                    line.push((space_face, ' '));
                    line_width += space;
                } else if !line.is_empty() {
                    lines.push(spans_of(&line));
                    line.clear();
                    line_width = 0.0;
                }
                for &(face, c) in word {
                    let w = self.advance(face, c) * size;
                    if !line.is_empty() && line_width + w > width {
                        lines.push(spans_of(&line));
                        line.clear();
                        line_width = 0.0;
                    }
                    line.push((face, c));
                    line_width += w;
                }
            }
            lines.push(spans_of(&line));
        }
        lines
    }

    /// Breaks one line of code into pieces no wider than `width`, keeping every character
    /// (spaces included): after a space when one is in the piece's second half, else where the
    /// width runs out.
    pub fn wrap_code(&self, line: &str, size: f32, width: f32) -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        let mut pieces = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = start;
            let mut used = 0.0;
            while end < chars.len() {
                let w = self.advance(Face::Mono, chars[end]) * size;
                if end > start && used + w > width {
                    break;
                }
                used += w;
                end += 1;
            }
            if end < chars.len() {
                let half = start + (end - start) / 2;
                if let Some(space) = (half..end).rev().find(|&i| chars[i] == ' ') {
                    end = space + 1;
                }
            }
            pieces.push(chars[start..end].iter().collect());
            start = end;
        }
        if pieces.is_empty() {
            pieces.push(String::new());
        }
        pieces
    }

    /// Draws `spans` from `x` on the baseline `y`; returns the width drawn.
    pub fn draw(
        &self,
        surface: &mut krilla::surface::Surface<'_>,
        (x, y): (f32, f32),
        size: f32,
        spans: &[Span],
    ) -> f32 {
        let mut pen = x;
        for span in spans {
            let placed = self.placed(span.face, &span.text);
            for run in placed.chunk_by(|a, b| a.face == b.face) {
                let glyphs: Vec<KrillaGlyph> = run
                    .iter()
                    .map(|p| {
                        KrillaGlyph::new(
                            GlyphId::new(p.glyph),
                            p.advance,
                            0.0,
                            0.0,
                            0.0,
                            p.range.clone(),
                            None,
                        )
                    })
                    .collect();
                surface.draw_glyphs(
                    krilla::geom::Point::from_xy(pen, y),
                    &glyphs,
                    self.get(run[0].face).pdf.clone(),
                    &span.text,
                    size,
                    false,
                );
                pen += run.iter().map(|p| p.advance).sum::<f32>() * size;
            }
        }
        pen - x
    }
}

fn spans_of(chars: &[(Face, char)]) -> Vec<Span> {
    chars
        .chunk_by(|a, b| a.0 == b.0)
        .map(|run| Span::new(run[0].0, run.iter().map(|&(_, c)| c).collect::<String>()))
        .collect()
}

/// Invisible characters that are better dropped than shown as a replacement glyph.
fn takes_no_room(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{E0000}'..='\u{E01EF}')
}

/// Input as the report shows it: line ends as `\n`, control characters other than `\n` and
/// `\t` dropped.
pub fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// A line of code with its tabs expanded to the next tab stop.
pub fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let to = TAB_WIDTH - column % TAB_WIDTH;
            out.extend(std::iter::repeat_n(' ', to));
            column += to;
        } else {
            out.push(c);
            column += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(lines: &[Vec<Span>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.iter().map(|s| s.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn widths_come_from_the_fonts_advances() {
        let faces = Typefaces::load();
        // DejaVu Sans Mono: every glyph is 1233 of 2048 units wide.
        let mono = faces.width(Face::Mono, 10.0, "iiiii");
        assert!((mono - 5.0 * 1233.0 / 2048.0 * 10.0).abs() < 0.01, "{mono}");
        // Proportional: an "i" is narrower than an "m".
        assert!(faces.width(Face::Sans, 10.0, "i") < faces.width(Face::Sans, 10.0, "m"));
        assert!(faces.width(Face::Bold, 10.0, "m") > faces.width(Face::Sans, 10.0, "m"));
    }

    #[test]
    fn prose_wraps_at_spaces_within_the_width() {
        let faces = Typefaces::load();
        let text = "The quick brown fox jumps over the lazy dog ".repeat(8);
        let lines = faces.wrap(&[Span::new(Face::Sans, text.clone())], 10.0, 200.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(faces.spans_width(10.0, line) <= 200.0);
        }
        assert_eq!(
            joined(&lines).join(" "),
            text.trim_end(),
            "nothing is lost, words stay whole"
        );
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken() {
        let faces = Typefaces::load();
        let word = "x".repeat(200);
        let lines = faces.wrap(&[Span::new(Face::Bold, word.clone())], 10.0, 100.0);
        assert!(lines.len() > 1);
        assert_eq!(joined(&lines).concat(), word);
        let text = format!("see {word}");
        let lines = faces.wrap(&[Span::new(Face::Sans, text.clone())], 10.0, 100.0);
        assert!(
            joined(&lines)[0].starts_with("see xx"),
            "it starts on the line"
        );
        assert_eq!(joined(&lines).concat(), text);
        for line in &lines {
            assert!(faces.spans_width(10.0, line) <= 100.0);
        }
    }

    #[test]
    fn line_breaks_are_kept_and_faces_survive_wrapping() {
        let faces = Typefaces::load();
        let spans = [
            Span::new(Face::Sans, "call "),
            Span::new(Face::Mono, "solve()"),
            Span::new(Face::Sans, " then\n\nstop"),
        ];
        let lines = faces.wrap(&spans, 10.0, 500.0);
        assert_eq!(joined(&lines), ["call solve() then", "", "stop"]);
        assert_eq!(lines[0][1], Span::new(Face::Mono, "solve()"));
    }

    #[test]
    fn code_wraps_by_width_and_keeps_every_character() {
        let faces = Typefaces::load();
        let line = "    return [x for x in range(10)]  # ".repeat(5);
        let pieces = faces.wrap_code(&line, 9.0, 150.0);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), line);
        for p in &pieces {
            assert!(faces.width(Face::Mono, 9.0, p) <= 150.0);
        }
        assert!(pieces[0].ends_with(' '), "broken after a space: {pieces:?}");
        let word = "x".repeat(100);
        let pieces = faces.wrap_code(&word, 9.0, 150.0);
        assert_eq!(pieces.concat(), word);
        assert_eq!(pieces[0].len(), (150.0 / (9.0 * 1233.0 / 2048.0)) as usize);
        assert_eq!(faces.wrap_code("", 9.0, 150.0), [""]);
    }

    #[test]
    fn characters_without_a_glyph_are_replaced_or_dropped_not_lost_around() {
        let faces = Typefaces::load();
        assert!(
            faces.place(Face::Sans, '😀').is_some(),
            "a replacement glyph"
        );
        assert_eq!(
            faces.width(Face::Sans, 10.0, "\u{200B}\u{FEFF}\u{FE0F}"),
            0.0
        );
        assert!(faces.width(Face::Sans, 10.0, "Łukasz Żółć “é”") > 0.0);
    }

    #[test]
    fn cleaning_drops_control_characters_but_keeps_lines_and_tabs() {
        assert_eq!(clean("a\u{0}b\u{7}\r\nc\td\re\u{1b}[0m"), "ab\nc\td\ne[0m");
        assert_eq!(expand_tabs("\tx\ty"), "    x   y");
    }
}
