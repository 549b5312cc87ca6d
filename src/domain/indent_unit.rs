/// One level of indentation in the candidate's editor: what Tab inserts and what a new block
/// indents by. The question's starter code sets it when it indents anything, so the candidate
/// continues in the same style; otherwise the language's convention does
/// (`db::questions::Language::indent_unit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndentUnit {
    Spaces(u8),
    Tab,
}

impl IndentUnit {
    /// The unit `code` indents with, if it indents any line: a tab when most indented lines
    /// start with one, else the narrowest indentation of two spaces or more, when it is at most
    /// eight (wider is alignment, not a level). A line going on with a block comment (` * …`)
    /// is aligned, not indented, so it does not count.
    pub fn shown_by(code: &str) -> Option<IndentUnit> {
        let (mut tabs, mut spaced, mut narrowest) = (0usize, 0usize, usize::MAX);
        for line in code.lines() {
            let text = line.trim_start_matches([' ', '\t']);
            if text.is_empty() || text.starts_with('*') || text.len() == line.len() {
                continue;
            }
            if line.starts_with('\t') {
                tabs += 1;
                continue;
            }
            spaced += 1;
            let width = line.len() - line.trim_start_matches(' ').len();
            if width >= 2 {
                narrowest = narrowest.min(width);
            }
        }
        if tabs > spaced {
            return Some(IndentUnit::Tab);
        }
        u8::try_from(narrowest)
            .ok()
            .filter(|n| *n <= 8)
            .map(IndentUnit::Spaces)
    }

    /// As the editor page's `data-indent-unit` carries it: `tab`, or the number of spaces.
    pub fn as_attribute(self) -> String {
        match self {
            IndentUnit::Spaces(n) => n.to_string(),
            IndentUnit::Tab => "tab".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::IndentUnit::{self, Spaces, Tab};

    #[test]
    fn the_unit_is_the_narrowest_indentation_the_code_shows() {
        let python = "def allow(now):\n    if now:\n        return True\n    pass\n";
        assert_eq!(IndentUnit::shown_by(python), Some(Spaces(4)));
        let two = "function f() {\n  if (x) {\n    return 1;\n  }\n}\n";
        assert_eq!(IndentUnit::shown_by(two), Some(Spaces(2)));
        let go = "func main() {\n\tif x {\n\t\treturn\n\t}\n}\n";
        assert_eq!(IndentUnit::shown_by(go), Some(Tab));
        let javadoc = "/**\n * Counts.\n */\nclass A {\n    int n;\n}\n";
        assert_eq!(IndentUnit::shown_by(javadoc), Some(Spaces(4)));
        let eight = "if x:\n        y()\n";
        assert_eq!(IndentUnit::shown_by(eight), Some(Spaces(8)));
    }

    #[test]
    fn code_that_indents_nothing_shows_no_unit() {
        assert_eq!(IndentUnit::shown_by(""), None);
        assert_eq!(IndentUnit::shown_by("import sys\n\nprint(1)\n   \n"), None);
        assert_eq!(IndentUnit::shown_by("a\n b\n"), None);
        let aligned = "x = [\n                1,\n]\n";
        assert_eq!(IndentUnit::shown_by(aligned), None);
    }

    #[test]
    fn the_page_reads_it_as_a_number_or_tab() {
        assert_eq!(Spaces(4).as_attribute(), "4");
        assert_eq!(Tab.as_attribute(), "tab");
    }
}
