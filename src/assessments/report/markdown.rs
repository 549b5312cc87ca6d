//! The question's prompt, Markdown as the reviewer wrote it, as plain blocks of text for the
//! report: markup goes, words stay. Parsed with the options the question page renders it with.
//! Raw HTML stays as written (so `Vec<String>` keeps its `<String>`); a link keeps its address
//! in brackets after its text.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::text::{expand_tabs, Face, Span};

#[derive(Debug, PartialEq)]
pub enum Block {
    /// Running text; `depth` lists deep; `marker` ("• ", "3. ") on a list item's first block.
    Paragraph {
        spans: Vec<Span>,
        depth: usize,
        marker: Option<String>,
        quoted: bool,
    },
    Heading(Vec<Span>),
    Code(Vec<String>),
    Rule,
}

#[derive(Default)]
struct Blocks {
    blocks: Vec<Block>,
    spans: Vec<Span>,
    /// The next number of each open list; `None` for a bulleted one.
    lists: Vec<Option<u64>>,
    marker: Option<String>,
    strong: usize,
    quoted: usize,
    code: Option<String>,
    /// Each open link: its address and where its text starts.
    links: Vec<(String, usize)>,
    cells: usize,
}

impl Blocks {
    fn push_text(&mut self, face: Face, text: &str) {
        if let Some(code) = &mut self.code {
            code.push_str(text);
            return;
        }
        let face = if face == Face::Sans && self.strong > 0 {
            Face::Bold
        } else {
            face
        };
        match self.spans.last_mut() {
            Some(last) if last.face == face => last.text.push_str(text),
            _ => self.spans.push(Span::new(face, text)),
        }
    }

    fn text_len(&self) -> usize {
        self.spans.iter().map(|s| s.text.len()).sum()
    }

    fn text_from(&self, start: usize) -> String {
        let all: String = self.spans.iter().map(|s| s.text.as_str()).collect();
        all.get(start..).unwrap_or_default().to_owned()
    }

    /// Ends the running paragraph, if any.
    fn flush(&mut self) {
        if self.spans.iter().any(|s| !s.text.trim().is_empty()) {
            self.push_paragraph();
        }
    }

    /// Ends the running paragraph, even an empty one if a list item's marker waits for it.
    fn flush_item(&mut self) {
        if self.marker.is_some() {
            self.push_paragraph();
        }
        self.flush();
    }

    fn push_paragraph(&mut self) {
        let spans = std::mem::take(&mut self.spans);
        self.blocks.push(Block::Paragraph {
            spans,
            depth: self.lists.len(),
            marker: self.marker.take(),
            quoted: self.quoted > 0,
        });
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph | Tag::Heading { .. } | Tag::HtmlBlock => self.flush(),
            Tag::BlockQuote(_) => {
                self.flush();
                self.quoted += 1;
            }
            Tag::TableHead | Tag::TableRow => {
                self.flush();
                self.cells = 0;
                if let Tag::TableHead = tag {
                    self.strong += 1;
                }
            }
            Tag::TableCell => {
                if self.cells > 0 {
                    self.push_text(Face::Sans, "  |  ");
                }
                self.cells += 1;
            }
            Tag::List(first) => {
                self.flush_item();
                self.lists.push(first);
            }
            Tag::Item => {
                self.flush();
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_owned(),
                };
                self.marker = Some(marker);
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.code = Some(String::new());
            }
            Tag::Strong => self.strong += 1,
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                self.links.push((dest_url.to_string(), self.text_len()))
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::TableRow => self.flush(),
            TagEnd::Item => self.flush_item(),
            TagEnd::TableHead => {
                self.flush();
                self.strong = self.strong.saturating_sub(1);
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quoted = self.quoted.saturating_sub(1);
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
            }
            TagEnd::Heading(_) => {
                let spans = std::mem::take(&mut self.spans);
                if !spans.is_empty() {
                    self.blocks.push(Block::Heading(spans));
                }
            }
            TagEnd::CodeBlock => {
                let code = self.code.take().unwrap_or_default();
                let lines = code.trim_end_matches('\n').lines().map(expand_tabs);
                self.blocks.push(Block::Code(lines.collect()));
            }
            TagEnd::Strong => self.strong = self.strong.saturating_sub(1),
            TagEnd::Link | TagEnd::Image => {
                if let Some((url, start)) = self.links.pop() {
                    if !url.is_empty() && self.text_from(start).trim() != url {
                        self.push_text(Face::Sans, &format!(" ({url})"));
                    }
                }
            }
            _ => {}
        }
    }
}

/// The prompt's blocks, in order.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut blocks = Blocks::default();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => blocks.start(tag),
            Event::End(tag) => blocks.end(tag),
            Event::Text(text) => blocks.push_text(Face::Sans, &text),
            Event::Code(code) => blocks.push_text(Face::Mono, &code),
            Event::Html(html) | Event::InlineHtml(html) => {
                blocks.push_text(Face::Sans, html.trim_end_matches('\n'))
            }
            Event::SoftBreak => blocks.push_text(Face::Sans, " "),
            Event::HardBreak => blocks.push_text(Face::Sans, "\n"),
            Event::Rule => {
                blocks.flush();
                blocks.blocks.push(Block::Rule);
            }
            _ => {}
        }
    }
    blocks.flush();
    blocks.blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraph(text: &str) -> Block {
        Block::Paragraph {
            spans: vec![Span::new(Face::Sans, text)],
            depth: 0,
            marker: None,
            quoted: false,
        }
    }

    #[test]
    fn markup_goes_and_the_structure_stays() {
        let md = "# Two sum\n\nGiven *numbers* and a **target**, return `i, j`.\n\n\
                  - first\n- second\n\n1. one\n2. two\n\n```python\ndef f():\n\treturn 1\n```\n\n\
                  See [the docs](https://example.com/docs) or <https://example.com>.\n\n---\n\n\
                  Return a Vec<String> if a < b && c > d.";
        let blocks = blocks(md);
        assert_eq!(
            blocks[0],
            Block::Heading(vec![Span::new(Face::Sans, "Two sum")])
        );
        assert_eq!(
            blocks[1],
            Block::Paragraph {
                spans: vec![
                    Span::new(Face::Sans, "Given numbers and a "),
                    Span::new(Face::Bold, "target"),
                    Span::new(Face::Sans, ", return "),
                    Span::new(Face::Mono, "i, j"),
                    Span::new(Face::Sans, "."),
                ],
                depth: 0,
                marker: None,
                quoted: false,
            }
        );
        let item = |text: &str, marker: &str| Block::Paragraph {
            spans: vec![Span::new(Face::Sans, text)],
            depth: 1,
            marker: Some(marker.into()),
            quoted: false,
        };
        assert_eq!(blocks[2], item("first", "• "));
        assert_eq!(blocks[3], item("second", "• "));
        assert_eq!(blocks[4], item("one", "1. "));
        assert_eq!(blocks[5], item("two", "2. "));
        assert_eq!(
            blocks[6],
            Block::Code(vec!["def f():".into(), "    return 1".into()])
        );
        assert_eq!(
            blocks[7],
            paragraph("See the docs (https://example.com/docs) or https://example.com.")
        );
        assert_eq!(blocks[8], Block::Rule);
        assert_eq!(
            blocks[9],
            paragraph("Return a Vec<String> if a < b && c > d.")
        );
        assert_eq!(blocks.len(), 10);
    }

    #[test]
    fn a_loose_list_item_marks_only_its_first_paragraph() {
        let blocks = blocks("* first\n\n  more\n\n* second\n");
        let markers: Vec<_> = blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph { marker, .. } => marker.clone(),
                _ => panic!("{b:?}"),
            })
            .collect();
        assert_eq!(markers, [Some("• ".into()), None, Some("• ".into())]);
    }
}
