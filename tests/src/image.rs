//! Looking at screenshots: decode a PNG and summarise what is on it, so a test can
//! tell a drawn screen from a blank or black one.

use std::collections::HashMap;

use anyhow::Context as _;

/// An RGB image.
#[derive(Debug, Clone)]
pub struct Rgb {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[u8; 3]>,
}

impl Rgb {
    pub fn decode_png(bytes: &[u8]) -> anyhow::Result<Self> {
        let mut decoder = png::Decoder::new(bytes);
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().context("not a PNG")?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).context("corrupt PNG")?;
        let channels = info.color_type.samples();
        let pixels = buf[..info.buffer_size()]
            .chunks_exact(channels)
            .map(|p| match p {
                [g] | [g, _] => [*g, *g, *g],
                [r, g, b, ..] => [*r, *g, *b],
                _ => unreachable!("chunks_exact yields 1..=4 samples"),
            })
            .collect();
        Ok(Self { width: info.width, height: info.height, pixels })
    }

    /// The most common colour and the share of pixels that differ from it.
    pub fn background_and_ink(&self) -> ([u8; 3], f64) {
        let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
        for p in &self.pixels {
            *counts.entry(*p).or_default() += 1;
        }
        let (bg, n) = counts.into_iter().max_by_key(|&(_, n)| n).unwrap_or(([0; 3], 0));
        (bg, 1.0 - n as f64 / self.pixels.len().max(1) as f64)
    }

    /// Number of distinct colours (anti-aliased text gives many).
    pub fn distinct_colours(&self) -> usize {
        self.pixels.iter().collect::<std::collections::HashSet<_>>().len()
    }
}

/// A rectangle on a screenshot: left, top, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn centre(self) -> (u32, u32) {
        (self.x + self.w / 2, self.y + self.h / 2)
    }
}

impl Rgb {
    /// The bounding boxes of the connected areas (4-neighbours) of exactly `colour`
    /// at least `min_w`×`min_h` big, top to bottom, then left to right: how a test
    /// finds a button by the colour the theme gives it (text on a button leaves holes,
    /// not gaps, so a button is one area).
    pub fn regions(&self, colour: [u8; 3], min_w: u32, min_h: u32) -> Vec<Rect> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut seen = vec![false; w * h];
        let mut out = Vec::new();
        for start in 0..w * h {
            if seen[start] || self.pixels[start] != colour {
                continue;
            }
            let (mut x0, mut y0, mut x1, mut y1) = (start % w, start / w, start % w, start / w);
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                let mut visit = |j: usize| {
                    if !seen[j] && self.pixels[j] == colour {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    visit(i - 1);
                }
                if x + 1 < w {
                    visit(i + 1);
                }
                if y > 0 {
                    visit(i - w);
                }
                if y + 1 < h {
                    visit(i + w);
                }
            }
            let r = Rect { x: x0 as u32, y: y0 as u32, w: (x1 - x0 + 1) as u32, h: (y1 - y0 + 1) as u32 };
            if r.w >= min_w && r.h >= min_h {
                out.push(r);
            }
        }
        out.sort_by_key(|r| (r.y, r.x));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(rgb).unwrap();
        out
    }

    #[test]
    fn blank_and_drawn_images_are_told_apart() {
        let blank = Rgb::decode_png(&encode(2, 2, &[0; 12])).unwrap();
        assert_eq!(blank.background_and_ink(), ([0, 0, 0], 0.0));
        assert_eq!(blank.distinct_colours(), 1);
        let drawn =
            Rgb::decode_png(&encode(2, 2, &[255, 255, 255, 255, 255, 255, 255, 255, 255, 10, 20, 30]))
                .unwrap();
        assert_eq!(drawn.background_and_ink(), ([255, 255, 255], 0.25));
        assert!(Rgb::decode_png(b"not a png").is_err());
    }

    #[test]
    fn buttons_are_found_by_their_colour() {
        // 6×3: a 2×2 red block, a 1×1 red speck, blue elsewhere (one area, wrapping
        // round the block: its box is the whole image).
        let (r, b) = ([138, 28, 28], [11, 79, 138]);
        let rows = [[r, r, b, b, b, r], [r, r, b, b, b, b], [b, b, b, b, b, b]];
        let img = Rgb { width: 6, height: 3, pixels: rows.concat() };
        assert_eq!(img.regions(r, 2, 2), [Rect { x: 0, y: 0, w: 2, h: 2 }]);
        assert_eq!(img.regions(r, 1, 1).len(), 2);
        assert_eq!(img.regions(b, 1, 1), [Rect { x: 0, y: 0, w: 6, h: 3 }]);
        assert!(img.regions(b, 7, 1).is_empty(), "smaller than asked for");
        assert_eq!(Rect { x: 0, y: 0, w: 2, h: 2 }.centre(), (1, 1));
    }
}
