//! Small server-drawn SVG charts (no script, readable by screen readers through their title).

use std::fmt::Write;

/// Bars of minutes per day of a month; `minutes[d]` is day d+1.
pub fn month_bars(minutes: &[i64], label: &str) -> String {
    let (w, h, pad) = (320.0_f64, 120.0_f64, 18.0_f64);
    let n = minutes.len().max(1) as f64;
    let max = minutes.iter().copied().max().unwrap_or(0).max(60) as f64;
    let bar_w = (w - pad) / n;
    let mut svg = String::new();
    let title = crate::web::escape_html(label);
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{title}</title>"#
    );
    let _ = write!(
        svg,
        r##"<line x1="{pad}" y1="{y}" x2="{w}" y2="{y}" stroke="#8792a2" stroke-width="1"/>"##,
        y = h - pad
    );
    for (i, m) in minutes.iter().enumerate() {
        if *m <= 0 {
            continue;
        }
        let bh = (*m as f64 / max) * (h - 2.0 * pad);
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#0b5cab"><title>{day} : {t}</title></rect>"##,
            x = pad + i as f64 * bar_w + 1.0,
            y = h - pad - bh,
            bw = (bar_w - 2.0).max(1.0),
            day = i + 1,
            t = crate::base::format::minutes(*m),
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{pad}" y="{ty}" font-size="10" fill="#4a5563">1</text><text x="{tx:.0}" y="{ty}" font-size="10" fill="#4a5563" text-anchor="end">{n}</text></svg>"##,
        ty = h - 4.0,
        tx = w - 2.0,
        n = minutes.len()
    );
    svg
}

#[cfg(test)]
mod tests {
    #[test]
    fn bars_are_drawn_for_active_days_only() {
        let svg = super::month_bars(&[0, 30, 0, 90], "Heures de novembre <test>");
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains("<title id=\"chart-title\">Heures de novembre &lt;test&gt;</title>"));
        assert!(svg.contains("4 : 1 h 30"));
    }
}
