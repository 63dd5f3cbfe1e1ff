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
}
