//! Trend charts for alert emails and the digest: a [`Series`] drawn as daily
//! bars into a small palette PNG, pixel by pixel, in pure Rust, and the
//! words the HTML prints beside it (label, min, max, last, threshold).
//!
//! Why a PNG drawn by hand: mainstream mail clients (Gmail, Outlook) strip
//! SVG and scripts and block remote images, but show an inline PNG
//! attached by Content-ID. Fonts would need fontconfig or an embedded font,
//! so the image carries no text: the HTML prints the label and the min, max
//! and last values beside it.
//!
//! What the picture says: one bar per point on a light background; a
//! missing point (`None`) is a gap marked by a faint dotted stub, never a
//! zero bar; the newest point with data is highlighted; the rule's
//! threshold, when the series has one within reach of the data, is a dashed
//! red line. The function is pure and deterministic (same series, same
//! bytes), so emails can be compared in tests.

use std::fmt::Write as _;

use super::layout::{esc, field, MUTED};
use crate::alert::{Attachment, Series};

/// Palette indices (the image is 8-bit indexed: a few hundred bytes).
const BACKGROUND: u8 = 0;
const AXIS: u8 = 1;
const BAR: u8 = 2;
const LAST: u8 = 3;
const THRESHOLD: u8 = 4;
const GAP: u8 = 5;

/// RGB of each palette index, in index order.
const PALETTE: [[u8; 3]; 6] = [
    [0xf6, 0xf7, 0xf9], // background: near white
    [0xb0, 0xb6, 0xbe], // zero line
    [0x5b, 0x8b, 0xd0], // bars: blue
    [0xe0, 0x7b, 0x00], // the newest point: orange
    [0xd0, 0x30, 0x30], // threshold: red, dashed
    [0xcf, 0xd3, 0xd8], // gap marker: light grey dots
];

/// Pixels left blank around the plot area.
const PAD: u32 = 2;
/// Largest side drawn (a bigger request is clamped: emails need small charts).
const MAX_SIDE: u32 = 2000;

/// The value range the y axis covers: always includes zero (bars grow from
/// it), the data, and the threshold unless it is more than four times as
/// far from zero as the data (a far-away threshold would flatten every bar;
/// the HTML still prints it). `None` when the series has no finite value and no threshold.
fn scale(series: &Series) -> Option<(f64, f64)> {
    let values: Vec<f64> = series
        .points
        .iter()
        .filter_map(|(_, v)| *v)
        .filter(|v| v.is_finite())
        .collect();
    let threshold = series.threshold.filter(|t| t.is_finite());
    if values.is_empty() && threshold.is_none() {
        return None;
    }
    let mut lo = values.iter().copied().fold(0.0_f64, f64::min);
    let mut hi = values.iter().copied().fold(0.0_f64, f64::max);
    if let Some(t) = threshold {
        let extent = lo.abs().max(hi.abs());
        if extent == 0.0 || t.abs() <= 4.0 * extent {
            lo = lo.min(t);
            hi = hi.max(t);
        }
    }
    if (hi - lo).abs() < f64::EPSILON {
        // All zero (or a threshold of zero with no data): any span draws it.
        hi = lo + 1.0;
    }
    // Headroom so the tallest bar and the threshold line do not touch the
    // edge, then round numbers: the HTML prints the axis ends beside the
    // image, and "12" reads better than "10.96".
    let room = (hi - lo) * 0.08;
    Some((
        if lo < 0.0 { -nice_up(-(lo - room)) } else { lo },
        nice_up(hi + room),
    ))
}

/// The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × a power
/// of ten) at or above `x` (≥ 0).
fn nice_up(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x.max(0.0);
    }
    let m = 10f64.powf(x.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|k| k * m)
        .find(|v| *v >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * m)
}

/// The pixel row of value `v` in an image `height` tall with axis `lo..hi`
/// (row 0 is the top).
fn row_of(v: f64, lo: f64, hi: f64, height: u32) -> u32 {
    let top = PAD as f64;
    let bottom = (height.saturating_sub(PAD + 1)) as f64;
    let frac = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    (bottom - frac * (bottom - top)).round() as u32
}

/// Draws `series` as a `width` × `height` PNG (clamped to 1…2000 pixels a
/// side). An empty or all-missing series gives an empty chart.
pub fn png(series: &Series, width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width.clamp(1, MAX_SIDE), height.clamp(1, MAX_SIDE));
    let pixels = draw(series, w, h);
    encode(&pixels, w, h)
}

/// The indexed pixels, row-major.
fn draw(series: &Series, w: u32, h: u32) -> Vec<u8> {
    let mut px = vec![BACKGROUND; (w * h) as usize];
    let mut set = |x: u32, y: u32, c: u8| {
        if x < w && y < h {
            px[(y * w + x) as usize] = c;
        }
    };
    let Some((lo, hi)) = scale(series) else {
        return px;
    };
    let zero = row_of(0.0, lo, hi, h);
    let n = series.points.len();
    let last_known = series.points.iter().rposition(|(_, v)| v.is_some());
    let plot_w = w.saturating_sub(2 * PAD).max(1) as f64;
    let slot = plot_w / n.max(1) as f64;
    for (i, (_, v)) in series.points.iter().enumerate() {
        let x0 = PAD as f64 + i as f64 * slot;
        let mut x1 = x0 + slot;
        // A one-pixel gap between bars when they are wide enough to spare it.
        if slot >= 3.0 {
            x1 -= 1.0;
        }
        let (xa, xb) = (
            x0.round() as u32,
            (x1.round() as u32).max(x0.round() as u32 + 1),
        );
        match v.filter(|v| v.is_finite()) {
            Some(v) => {
                let y = row_of(v, lo, hi, h);
                let (ya, yb) = if y <= zero { (y, zero) } else { (zero, y) };
                let colour = if Some(i) == last_known { LAST } else { BAR };
                for x in xa..xb {
                    // A zero value still shows as a one-pixel bar on the axis.
                    for yy in ya..=yb {
                        set(x, yy, colour);
                    }
                }
            }
            None => {
                // No data: a dotted stub above the axis, so a gap never
                // reads as a zero bar.
                let stub = (h / 10).max(2);
                for x in xa..xb {
                    for k in (0..stub).step_by(2) {
                        if let Some(yy) = zero.checked_sub(k + 1) {
                            set(x, yy, GAP);
                        }
                    }
                }
            }
        }
    }
    // The zero line under the bars' feet, where no bar covers it.
    for x in PAD..w.saturating_sub(PAD) {
        let i = (y_index(zero, w, x)) as usize;
        if px[i] == BACKGROUND {
            px[i] = AXIS;
        }
    }
    if let Some(t) = series.threshold.filter(|t| t.is_finite()) {
        if t >= lo && t <= hi {
            let y = row_of(t, lo, hi, h);
            // Dashes of 4 pixels, gaps of 3, drawn over the bars; two
            // pixels thick in a picture drawn for a high-density screen.
            let thick = if h >= 100 { 2 } else { 1 };
            let dash = 4 * thick;
            for yy in y..(y + thick).min(h) {
                for x in 0..w {
                    if x % (dash + 3 * thick) < dash {
                        px[y_index(yy, w, x) as usize] = THRESHOLD;
                    }
                }
            }
        }
    }
    px
}

fn y_index(y: u32, w: u32, x: u32) -> u32 {
    y * w + x
}

fn encode(pixels: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(PALETTE.concat());
        // Writing into a Vec cannot fail, and the header matches the data.
        let mut writer = enc.write_header().expect("png header into a Vec");
        writer
            .write_image_data(pixels)
            .expect("png data matches the header");
        writer.finish().expect("png finish into a Vec");
    }
    out
}

// ---- beside the image: what the picture cannot say ----

/// Trend chart size in alert emails, in CSS pixels: narrower than the
/// narrowest phone, and shown at `width:100%` up to this width.
pub(super) const CHART: (u32, u32) = (300, 80);
/// The digest's 8-week sparkline, in CSS pixels.
pub(super) const SPARK: (u32, u32) = (96, 24);
/// Pixels drawn per CSS pixel, so the picture stays sharp on a phone and
/// on a high-density screen.
pub(super) const DENSITY: u32 = 2;
/// A chart needs this many days with data; with fewer the card says when
/// the history starts instead.
pub const MIN_POINTS: usize = 14;

/// The PNG of `series` for a `size` (CSS pixels) drawn at [`DENSITY`],
/// attached as `filename` under `content_id`.
pub(super) fn attachment(
    series: &Series,
    size: (u32, u32),
    filename: String,
    content_id: String,
) -> Attachment {
    Attachment {
        filename,
        content_id,
        content_type: "image/png".into(),
        data: png(series, size.0 * DENSITY, size.1 * DENSITY),
    }
}

/// Points with a finite value.
pub(super) fn known(s: &Series) -> Vec<(chrono::NaiveDate, f64)> {
    s.points
        .iter()
        .filter_map(|(d, v)| v.filter(|v| v.is_finite()).map(|v| (*d, v)))
        .collect()
}

/// Whether the series has enough history to draw ([`MIN_POINTS`] days with data).
pub(super) fn is_drawable(s: &Series) -> bool {
    known(s).len() >= MIN_POINTS
}

/// Min, max and last known value of a series, and the last known day.
pub(super) fn series_stats(s: &Series) -> Option<(f64, f64, f64, chrono::NaiveDate)> {
    let known = known(s);
    let (last_day, last) = *known.last()?;
    let min = known.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    let max = known.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    Some((min, max, last, last_day))
}

/// The value range the drawn axis covers (bottom, top).
pub(super) fn axis(s: &Series) -> Option<(f64, f64)> {
    scale(s)
}

/// The words printed around a chart (already in the reader's language and
/// the metric's unit).
pub(super) struct ChartWords {
    /// What is plotted.
    pub label: String,
    /// The axis' top and bottom values.
    pub top: String,
    pub bottom: String,
    /// The first and last day drawn.
    pub first: String,
    pub last: String,
    /// "threshold 12%", when drawn.
    pub threshold: Option<String>,
    /// "now 7.11% (Dec 5)": the highlighted bar.
    pub current: String,
    /// "min 7.11% · max 15.3%".
    pub range: String,
}

/// The chart image with its words around it: the axis' top and bottom
/// left of the picture, the first and last day under it, the threshold
/// and the current point in a legend. The image is `width:100%` up to its
/// CSS width, so it shrinks on a narrow screen and never widens the page.
pub(super) fn html_chart(cid: &str, size: (u32, u32), w: &ChartWords) -> String {
    let small = format!("font-size:11px;color:{MUTED};white-space:nowrap;");
    let mut legend = format!(
        "<span style=\"color:#c25e00;\">&#9632; {}</span>",
        esc(&w.current)
    );
    if let Some(t) = &w.threshold {
        let _ = write!(
            legend,
            " &nbsp;<span style=\"color:#c62828;\">- - {}</span>",
            esc(t)
        );
    }
    let _ = write!(legend, " &nbsp;<span>{}</span>", esc(&w.range));
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" width=\"100%\" \
         style=\"margin:8px 0 2px 0;max-width:{maxw}px;\">\
         <tr><td colspan=\"2\" style=\"font-size:12px;color:{MUTED};padding-bottom:2px;\">{label}</td></tr>\
         <tr><td valign=\"top\" align=\"right\" style=\"{small}padding-right:4px;\">{top}</td>\
         <td rowspan=\"2\" width=\"{w0}\" style=\"width:100%;\"><img src=\"cid:{cid}\" width=\"{w0}\" \
         alt=\"{alt}\" style=\"display:block;width:100%;max-width:{w0}px;height:auto;border:1px solid #d0d7de;\"></td></tr>\
         <tr><td valign=\"bottom\" align=\"right\" style=\"{small}padding-right:4px;\">{bottom}</td></tr>\
         <tr><td></td><td><table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\">\
         <tr><td style=\"{small}\">{first}</td><td align=\"right\" style=\"{small}\">{last}</td></tr></table></td></tr>\
         <tr><td></td><td style=\"font-size:12px;padding-top:2px;\">{legend}</td></tr></table>",
        maxw = size.0 + 48,
        label = esc(&field(&w.label)),
        top = esc(&w.top),
        bottom = esc(&w.bottom),
        first = esc(&w.first),
        last = esc(&w.last),
        w0 = size.0,
        cid = esc(cid),
        alt = esc(&field(&w.label)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn series(values: &[Option<f64>], threshold: Option<f64>) -> Series {
        let d0 = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        Series {
            label: "conversion rate (%)".into(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| (d0 + chrono::Duration::days(i as i64), *v))
                .collect(),
            threshold,
        }
    }

    /// Decodes to RGB; returns (width, height, pixels).
    fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut d = png::Decoder::new(std::io::Cursor::new(bytes));
        d.set_transformations(png::Transformations::EXPAND);
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn rgb(px: &[u8], w: u32, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * w + x) * 3) as usize;
        [px[i], px[i + 1], px[i + 2]]
    }

    #[test]
    fn decodes_to_the_requested_size_and_stays_small() {
        let values: Vec<Option<f64>> = (0..30).map(|i| Some(5.0 + (i % 7) as f64)).collect();
        let bytes = png(&series(&values, Some(12.0)), 240, 60);
        let (w, h, _) = decode(&bytes);
        assert_eq!((w, h), (240, 60));
        assert!(bytes.len() < 3_000, "{} bytes", bytes.len());
    }

    #[test]
    fn all_missing_or_empty_still_renders() {
        for s in [series(&[None, None, None], None), series(&[], None)] {
            let (w, h, px) = decode(&png(&s, 100, 30));
            assert_eq!((w, h), (100, 30));
            // Nothing but background and gap markers: no bar colour anywhere.
            for y in 0..h {
                for x in 0..w {
                    let c = rgb(&px, w, x, y);
                    assert!(c != PALETTE[BAR as usize] && c != PALETTE[LAST as usize]);
                }
            }
        }
        // Zero-sized requests are clamped to a pixel, not a panic.
        let (w, h, _) = decode(&png(&series(&[Some(1.0)], None), 0, 0));
        assert_eq!((w, h), (1, 1));
    }

    #[test]
    fn threshold_line_at_the_expected_row() {
        let s = series(&[Some(4.0), Some(8.0), Some(10.0)], Some(5.0));
        let (w, h, px) = decode(&png(&s, 90, 50));
        let (lo, hi) = scale(&s).unwrap();
        assert_eq!(lo, 0.0);
        let y = row_of(5.0, lo, hi, h);
        // The first dash starts at x = 0, left of every bar.
        assert_eq!(rgb(&px, w, 0, y), PALETTE[THRESHOLD as usize]);
        assert_eq!(rgb(&px, w, 3, y), PALETTE[THRESHOLD as usize]);
        // Dashed: pixel 5 of each 7 is a gap (background, or a bar below it).
        assert_ne!(rgb(&px, w, 5, y), PALETTE[THRESHOLD as usize]);
        // The row of the value 5 sits between the rows of 0 and 10.
        assert!(y > row_of(10.0, lo, hi, h) && y < row_of(0.0, lo, hi, h));
    }

    #[test]
    fn gaps_are_not_bars_and_the_last_point_is_highlighted() {
        let s = series(&[Some(10.0), None, Some(10.0)], None);
        let (w, h, px) = decode(&png(&s, 92, 40));
        let (lo, hi) = scale(&s).unwrap();
        let mid_row = row_of(5.0, lo, hi, h);
        let slot = (w - 2 * PAD) / 3;
        let centre = |i: u32| PAD + i * slot + slot / 2;
        assert_eq!(rgb(&px, w, centre(0), mid_row), PALETTE[BAR as usize]);
        assert_ne!(rgb(&px, w, centre(1), mid_row), PALETTE[BAR as usize]);
        assert_eq!(rgb(&px, w, centre(2), mid_row), PALETTE[LAST as usize]);
    }

    #[test]
    fn a_far_threshold_does_not_flatten_the_data() {
        let s = series(&[Some(1.0), Some(2.0)], Some(1000.0));
        let (_, hi) = scale(&s).unwrap();
        assert!(hi < 10.0);
        let s = series(&[Some(1.0), Some(2.0)], Some(3.0));
        assert!(scale(&s).unwrap().1 >= 3.0);
    }

    #[test]
    fn negative_values_hang_below_zero() {
        let s = series(&[Some(-4.0), Some(6.0)], Some(10.0));
        let (lo, hi) = scale(&s).unwrap();
        assert!(lo < -4.0 && hi > 10.0);
        let (w, h, _) = decode(&png(&s, 60, 30));
        assert_eq!((w, h), (60, 30));
    }

    #[test]
    fn same_input_same_bytes() {
        let s = series(&[Some(3.0), None, Some(7.5), Some(0.0)], Some(5.0));
        assert_eq!(png(&s, 120, 40), png(&s, 120, 40));
        let other = series(&[Some(3.0), None, Some(7.6), Some(0.0)], Some(5.0));
        assert_ne!(png(&s, 120, 40), png(&other, 120, 40));
    }
}
