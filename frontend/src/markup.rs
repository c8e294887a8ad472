//! The parts of the dashboard without listeners written as markup text, inserted by yew as one raw node each.
//!
//! Charts, figure tables, cards, the drill-down's body, the empty, loading and error texts change only when
//! their data does and need none of yew's per-element machinery: each `html!` element compiles to its own
//! node-building code, where a written tag is a few bytes of text. Every text and attribute value goes
//! through [`escape`], so data (account names, labels, the API's messages) can never become markup. yew keeps
//! a raw node whose text is unchanged and replaces it whole otherwise, so an element whose markup changes
//! while it holds focus (a select, the slider, the tabs, the account buttons) stays in `html!` (the custom
//! period's fields are markup: theirs does not change while they are edited); a button inside markup is read
//! by its view's one listener ([`action`]).

use wasm_bindgen::JsCast;
use yew::{AttrValue, Html, MouseEvent};

/// Markup being written: `open`, `text`, `close`, then [`Markup::html`].
#[derive(Debug, Default)]
pub struct Markup(String);

/// Appends `s` with `& < > " '` escaped: safe both as text and inside a double-quoted attribute value.
pub fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

impl Markup {
    /// `<tag a="v" …>`; an attribute whose value is `None` is left out.
    pub fn open(&mut self, tag: &str, attrs: &[(&str, Option<&str>)]) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        for (name, value) in attrs {
            if let Some(v) = value {
                self.0.push(' ');
                self.0.push_str(name);
                self.0.push_str("=\"");
                escape(&mut self.0, v);
                self.0.push('"');
            }
        }
        self.0.push('>');
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        escape(&mut self.0, s);
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    /// `<tag …>text</tag>`.
    pub fn element(&mut self, tag: &str, attrs: &[(&str, Option<&str>)], text: &str) -> &mut Self {
        self.open(tag, attrs).text(text).close(tag)
    }

    /// The markup `write` writes, as one raw node.
    pub fn with(write: impl FnOnce(&mut Markup)) -> Html {
        let mut m = Markup::default();
        write(&mut m);
        m.html()
    }

    pub fn html(self) -> Html {
        Html::from_html_unchecked(AttrValue::from(self.0))
    }
}

/// The `data-act` of the clicked control, for a view whose buttons are written as markup: one listener on
/// the view's element reads which of its buttons was pressed (a click bubbles, and Enter or Space on a
/// button is a click).
pub fn action(e: &MouseEvent) -> Option<String> {
    let target = e.target()?.dyn_into::<web_sys::Element>().ok()?;
    target.closest("[data-act]").ok()??.get_attribute("data-act")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_written_as_text() {
        let mut m = Markup::default();
        m.open("p", &[("class", Some("a\"b")), ("hidden", None), ("title", Some("<'&>"))])
            .text("<b>&amp;</b>")
            .close("p");
        assert_eq!(m.0, "<p class=\"a&quot;b\" title=\"&lt;&#39;&amp;&gt;\">&lt;b&gt;&amp;amp;&lt;/b&gt;</p>");
    }
}
