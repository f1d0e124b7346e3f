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

use super::layout::{esc, field, fmt_num, MUTED};
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
    // Headroom so the tallest bar and the threshold line do not touch the edge.
    let room = (hi - lo) * 0.08;
    Some((if lo < 0.0 { lo - room } else { lo }, hi + room))
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
            // Dashes of 4 pixels, gaps of 3, drawn over the bars.
            for x in 0..w {
                if x % 7 < 4 {
                    px[y_index(y, w, x) as usize] = THRESHOLD;
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

/// Trend chart size in alert emails and in the digest, in pixels.
pub(super) const CHART: (u32, u32) = (240, 60);
pub(super) const SPARK: (u32, u32) = (96, 24);

/// The PNG of `series` at `size`, attached as `filename` under `content_id`.
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
        data: png(series, size.0, size.1),
    }
}

/// Min, max and last known value of a series.
pub(super) fn series_stats(s: &Series) -> Option<(f64, f64, f64, chrono::NaiveDate)> {
    let known: Vec<(chrono::NaiveDate, f64)> = s
        .points
        .iter()
        .filter_map(|(d, v)| v.filter(|v| v.is_finite()).map(|v| (*d, v)))
        .collect();
    let (last_day, last) = *known.last()?;
    let min = known.iter().map(|x| x.1).fold(f64::INFINITY, f64::min);
    let max = known.iter().map(|x| x.1).fold(f64::NEG_INFINITY, f64::max);
    Some((min, max, last, last_day))
}

pub(super) fn stats_text(s: &Series) -> String {
    match series_stats(s) {
        Some((min, max, last, day)) => format!(
            "min {}, max {}, last {} on {day}",
            fmt_num(min),
            fmt_num(max),
            fmt_num(last)
        ),
        None => format!("no data in these {} points", s.points.len()),
    }
}

/// The chart image with its label and min/max/last beside it.
pub(super) fn html_chart(s: &Series, cid: &str, size: (u32, u32)) -> String {
    let mut side = format!("{}<br>{}", esc(&field(&s.label)), esc(&stats_text(s)));
    if let Some(t) = s.threshold {
        let _ = write!(
            side,
            "<br><span style=\"color:#d03030;\">- - threshold {}</span>",
            esc(&fmt_num(t))
        );
    }
    format!(
        "<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\" \
         style=\"margin:8px 0;\"><tr><td valign=\"top\"><img src=\"cid:{}\" width=\"{}\" height=\"{}\" \
         alt=\"{}\" style=\"display:block;border:1px solid #e1e4e8;\"></td>\
         <td valign=\"top\" style=\"padding-left:10px;font-size:12px;color:{MUTED};\">{side}</td></tr></table>",
        esc(cid),
        size.0,
        size.1,
        esc(&format!("trend: {}", field(&s.label))),
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
