//! Lesson Markdown to HTML. Raw HTML is never passed through: it is shown as text, so a
//! `<script>` in a lesson stays inert. Images and non-web links become plain text.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn safe_link(dest: &str) -> bool {
    dest.starts_with("https://") || dest.starts_with("http://") || dest.starts_with('#')
}

pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut link_stack: Vec<bool> = Vec::new();
    let mut in_image = 0usize;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { dest_url, .. }) => {
            let ok = safe_link(&dest_url);
            link_stack.push(ok);
            ok.then(|| {
                Event::Start(Tag::Link {
                    link_type: pulldown_cmark::LinkType::Inline,
                    dest_url,
                    title: "".into(),
                    id: "".into(),
                })
            })
        }
        Event::End(TagEnd::Link) => match link_stack.pop() {
            Some(true) => Some(Event::End(TagEnd::Link)),
            _ => None,
        },
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Lines (1-based) where the Markdown holds raw HTML, for the content checker.
pub fn raw_html_lines(markdown: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    for (event, range) in Parser::new_ext(markdown, Options::ENABLE_TABLES).into_offset_iter() {
        if matches!(event, Event::Html(_) | Event::InlineHtml(_)) {
            let line = markdown[..range.start].matches('\n').count() + 1;
            if lines.last() != Some(&line) {
                lines.push(line);
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_raw_html_are_inert() {
        let html = to_html("Bonjour <script>alert(1)</script>\n\n<div onclick=\"x()\">a</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        let html = to_html("[clic](javascript:alert(1)) ![img](http://x/y.png)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("clic"));
    }

    #[test]
    fn markdown_renders() {
        let html = to_html("## Titre\n\n- **un**\n- deux\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h2>Titre</h2>"));
        assert!(html.contains("<strong>un</strong>"));
        assert!(html.contains("<table>"));
        assert_eq!(raw_html_lines("a\n\nb <b>x</b>\n"), vec![3]);
        assert!(raw_html_lines("a < b et c > d").is_empty());
    }
}
