//! Lesson Markdown to HTML. Raw HTML is never passed through: it is shown as text, so a
//! `<script>` in a lesson stays inert. Non-web links become plain text; images are the
//! module's own files only (`![…](files/schema.png)`), any other image is left out.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

fn safe_link(dest: &str) -> bool {
    dest.starts_with("https://") || dest.starts_with("http://") || dest.starts_with('#')
}

/// `files/NAME` as an image may name it: one plain name in the module's `files/`.
fn module_image(dest: &str) -> Option<&str> {
    let name = dest.strip_prefix("files/")?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    plain.then_some(name)
}

/// The module files a text shows as images, with their lines (1-based), for the checker.
pub fn images(markdown: &str) -> Vec<(String, usize)> {
    Parser::new_ext(markdown, Options::ENABLE_TABLES)
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Image { dest_url, .. }) if dest_url.starts_with("files/") => {
                let line = markdown[..range.start].matches('\n').count() + 1;
                Some((dest_url.to_string(), line))
            }
            _ => None,
        })
        .collect()
}

pub fn to_html(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut link_stack: Vec<bool> = Vec::new();
    let mut image_stack: Vec<bool> = Vec::new();
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
        // The page of an activity is `…/{module}/activites/{slug}`: its module's files are
        // one level up, in the published pages and in the draft's preview alike.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => match module_image(&dest_url).map(|n| format!("../fichiers/{n}")) {
            Some(src) => {
                image_stack.push(true);
                Some(Event::Start(Tag::Image {
                    link_type,
                    dest_url: src.into(),
                    title,
                    id,
                }))
            }
            None => {
                image_stack.push(false);
                None
            }
        },
        Event::End(TagEnd::Image) => match image_stack.pop() {
            Some(true) => Some(Event::End(TagEnd::Image)),
            _ => None,
        },
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    // Aligned table columns come out with inline styles, which the pages' CSP refuses: classes
    // say the same. Only tags are rewritten: a text's `<` is always escaped.
    if out.contains(" style=\"text-align: ") {
        for cell in ["th", "td"] {
            for side in ["left", "center", "right"] {
                out = out.replace(
                    &format!("<{cell} style=\"text-align: {side}\">"),
                    &format!("<{cell} class=\"align-{side}\">"),
                );
            }
        }
    }
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

/// The body of a lesson or assignment file after its `+++` front matter, with the line it
/// starts on; a text without a closed front matter is all body.
fn body_of(text: &str) -> (&str, usize) {
    let Some(rest) = text
        .strip_prefix("+++\n")
        .or_else(|| text.strip_prefix("+++\r\n"))
    else {
        return (text, 1);
    };
    let Some(end) = rest.find("\n+++") else {
        return (text, 1);
    };
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    let first = text[..text.len() - body.len()].matches('\n').count() + 1;
    (body, first)
}

/// An author's preview: the Markdown body (after a `+++` front matter, if any) exactly as
/// `to_html` renders it for trainees, after a warning naming the lines of raw HTML, which the
/// content check refuses.
pub fn preview(text: &str) -> String {
    let (body, first) = body_of(text);
    let html = to_html(body);
    let lines = raw_html_lines(body);
    if lines.is_empty() {
        return html;
    }
    let lines: Vec<String> = lines.iter().map(|l| (l + first - 1).to_string()).collect();
    format!(
        "<p class=\"alert\">HTML brut interdit, affiché comme du texte et refusé à la \
         vérification (écrivez en Markdown) : ligne{} {}.</p>\n{html}",
        if lines.len() > 1 { "s" } else { "" },
        lines.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_table_columns_get_classes_not_inline_styles() {
        let html = to_html("| Acte | Tarif |\n|:---|---:|\n| G | 30 € |\n");
        assert!(!html.contains("style="), "{html}");
        assert!(
            html.contains("<th class=\"align-left\">Acte</th>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"align-right\">30 €</td>"),
            "{html}"
        );
        // A text that spells the style or the tag stays as written.
        let text = to_html("Écrire <td style=\"text-align: left\"> ou style=\"text-align: left\"");
        assert!(
            text.contains("&lt;td style=\"text-align: left\"&gt; ou style=\"text-align: left\""),
            "{text}"
        );
    }

    #[test]
    fn a_module_image_is_shown_from_the_module_files_and_listed_for_the_checker() {
        let text = "Texte.\n\n![Le circuit du patient](files/circuit_patient.png \"Circuit\")\n";
        let html = to_html(text);
        assert!(
            html.contains(r#"<img src="../fichiers/circuit_patient.png" alt="Le circuit du patient" title="Circuit" />"#),
            "{html}"
        );
        assert_eq!(images(text), [("files/circuit_patient.png".to_string(), 3)]);
    }

    #[test]
    fn scripts_and_raw_html_are_inert() {
        let html = to_html("Bonjour <script>alert(1)</script>\n\n<div onclick=\"x()\">a</div>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        let html =
            to_html("[clic](javascript:alert(1)) ![img](http://x/y.png) ![a](files/../x.png)");
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

    #[test]
    fn a_preview_is_the_body_as_trainees_see_it_with_raw_html_pointed_out() {
        let text = "+++\ntitle = \"Leçon\"\nminutes = 5\n+++\n\n## Titre\n\nDu <b>gras</b>\n";
        let html = preview(text);
        assert!(!html.contains("title ="), "{html}");
        assert!(html.contains("<h2>Titre</h2>"), "{html}");
        assert!(html.contains("ligne 8."), "the editor's line: {html}");
        assert!(
            html.ends_with(&to_html("## Titre\n\nDu <b>gras</b>\n")),
            "{html}"
        );
        assert_eq!(preview("- un\n- deux\n"), to_html("- un\n- deux\n"));
        assert_eq!(preview("+++\npas fermé\n"), to_html("+++\npas fermé\n"));
        assert!(preview("<script>a()</script>\n\n<i>x</i>").contains("lignes 1, 3."));
    }
}
