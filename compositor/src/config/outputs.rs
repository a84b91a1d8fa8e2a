//! `[output.NAME]`: an output's mode, position, scale, transform and whether it is lit.

use super::error::ValueError;
use serde::Deserialize;

/// One output, `[output.NAME]`; what is not given keeps its default (the preferred mode, placed
/// right of the outputs before it, scale 1, upright, enabled).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// Mode, `WIDTHxHEIGHT[@HZ]`: the connector's mode closest to it.
    pub mode: Option<OutputMode>,
    /// Top-left corner in the global space, `[x, y]` in logical pixels.
    pub position: Option<[i32; 2]>,
    /// Scale factor, 0.5 to 4.
    pub scale: Option<f64>,
    /// Rotation and flip.
    pub transform: Option<OutputTransform>,
    /// Whether the output is lit (default true).
    pub enabled: Option<bool>,
}

impl OutputConfig {
    /// Checks values TOML's types cannot.
    pub fn check(&self) -> Result<(), ValueError> {
        if let Some(scale) = self.scale {
            if !(0.5..=4.0).contains(&scale) {
                return Err(ValueError::Scale(scale));
            }
        }
        if let Some([x, y]) = self.position {
            if x.unsigned_abs() > 1 << 20 || y.unsigned_abs() > 1 << 20 {
                return Err(ValueError::Position(x, y));
            }
        }
        Ok(())
    }

    /// `other`'s values where it has them, these otherwise.
    pub fn merged(&self, other: &OutputConfig) -> OutputConfig {
        OutputConfig {
            mode: other.mode.or(self.mode),
            position: other.position.or(self.position),
            scale: other.scale.or(self.scale),
            transform: other.transform.or(self.transform),
            enabled: other.enabled.or(self.enabled),
        }
    }
}

/// An output's transform, as written in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum OutputTransform {
    /// Upright.
    #[serde(rename = "normal")]
    Normal,
    /// Rotated 90° counter-clockwise.
    #[serde(rename = "90")]
    R90,
    /// Upside down.
    #[serde(rename = "180")]
    R180,
    /// Rotated 270° counter-clockwise.
    #[serde(rename = "270")]
    R270,
    /// Mirrored left to right.
    #[serde(rename = "flipped")]
    Flipped,
    /// Mirrored, then rotated 90°.
    #[serde(rename = "flipped-90")]
    Flipped90,
    /// Mirrored, then rotated 180°.
    #[serde(rename = "flipped-180")]
    Flipped180,
    /// Mirrored, then rotated 270°.
    #[serde(rename = "flipped-270")]
    Flipped270,
}

impl OutputTransform {
    /// The names `transform` takes.
    pub const NAMES: &'static str = super::error::TRANSFORM_NAMES;

    /// Parses a name as written in the configuration.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        serde_json::from_value(serde_json::Value::String(text.to_string()))
            .map_err(|_| ValueError::Transform(text.to_string()))
    }

    /// smithay's transform.
    pub fn to_smithay(self) -> smithay::utils::Transform {
        use smithay::utils::Transform as T;
        match self {
            Self::Normal => T::Normal,
            Self::R90 => T::_90,
            Self::R180 => T::_180,
            Self::R270 => T::_270,
            Self::Flipped => T::Flipped,
            Self::Flipped90 => T::Flipped90,
            Self::Flipped180 => T::Flipped180,
            Self::Flipped270 => T::Flipped270,
        }
    }
}

/// A mode such as `1920x1080` or `1920x1080@60`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct OutputMode {
    /// Width in pixels.
    pub width: i32,
    /// Height in pixels.
    pub height: i32,
    /// Refresh rate in Hz.
    pub refresh_hz: u32,
}

impl OutputMode {
    /// Parses `WIDTHxHEIGHT[@HZ]`.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let bad = || ValueError::Mode(text.to_string());
        let (size, refresh) = match text.split_once('@') {
            Some((size, hz)) => (size, hz.parse::<u32>().map_err(|_| bad())?),
            None => (text, 60),
        };
        let (w, h) = size.split_once('x').ok_or_else(bad)?;
        let width: i32 = w.trim().parse().map_err(|_| bad())?;
        let height: i32 = h.trim().parse().map_err(|_| bad())?;
        if !(16..=16384).contains(&width) || !(16..=16384).contains(&height) {
            return Err(ValueError::ModeSize(text.to_string()));
        }
        if !(1..=1000).contains(&refresh) {
            return Err(ValueError::Refresh(text.to_string()));
        }
        Ok(Self {
            width,
            height,
            refresh_hz: refresh,
        })
    }

    /// Parses a comma-separated list, as `--outputs` takes it.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, ValueError> {
        text.split(',').map(|s| Self::parse(s.trim())).collect()
    }
}

impl TryFrom<String> for OutputMode {
    type Error = ValueError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn output_positions_and_scales_out_of_range_are_refused() {
        for bad in [
            "position = [-2147483648, 0]",
            "position = [0, 2000000]",
            "scale = 9.0",
            "scale = nan",
        ] {
            let err = Config::parse(&format!("[output.DP-1]\n{bad}\n")).unwrap_err();
            assert!(
                format!("{err:#}").contains("[output.DP-1]"),
                "{bad}: {err:#}"
            );
        }
        assert!(Config::parse("[output.DP-1]\nposition = [-1920, 0]\nscale = 1.5\n").is_ok());
    }

    #[test]
    fn output_modes_parse_and_reject_nonsense() {
        assert_eq!(
            OutputMode::parse_list("1280x720, 1920x1080@144").unwrap(),
            vec![
                OutputMode {
                    width: 1280,
                    height: 720,
                    refresh_hz: 60
                },
                OutputMode {
                    width: 1920,
                    height: 1080,
                    refresh_hz: 144
                },
            ]
        );
        assert!(OutputMode::parse("0x720").is_err());
        assert!(OutputMode::parse("1280*720").is_err());
        assert!(OutputMode::parse("99999x720").is_err());
    }
}
