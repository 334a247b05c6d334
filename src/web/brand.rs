//! The product as people see it (configuration `[branding]`): its name on every page, a logo,
//! and the accent colour. The colours are checked for contrast (WCAG AA, 4.5:1) against the
//! page in light and dark mode, and the text on buttons is chosen to contrast with them. The
//! edge sets the brand for each request's task; templates read it with `name()`.

use std::sync::Arc;

use crate::config::BrandingConfig;

/// The largest logo file served.
const MAX_LOGO_BYTES: u64 = 256 * 1024;

/// The card the pages sit on, light and dark (`portcullis.css`).
const CARD_LIGHT: Rgb = Rgb(0xff, 0xff, 0xff);
const CARD_DARK: Rgb = Rgb(0x16, 0x1b, 0x22);
const TEXT_ON_LIGHT: Rgb = Rgb(0xff, 0xff, 0xff);
const TEXT_ON_DARK: Rgb = Rgb(0x0d, 0x11, 0x17);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    fn parse(s: &str) -> Option<Rgb> {
        let hex = s.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }

    fn css(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// The button text that reads best on this colour.
    fn text_on(self) -> Rgb {
        if self.contrast(TEXT_ON_LIGHT) >= self.contrast(TEXT_ON_DARK) { TEXT_ON_LIGHT } else { TEXT_ON_DARK }
    }
}

/// Refuses a branding that would make pages unreadable or break them; messages name the key.
pub fn check(b: &BrandingConfig) -> Result<(), String> {
    if b.name.trim().is_empty() || b.name.chars().count() > 64 || b.name.chars().any(char::is_control) {
        return Err("key `branding.name`: 1 to 64 characters, without control characters".into());
    }
    for (key, value, card) in [
        ("branding.primary_color", &b.primary_color, CARD_LIGHT),
        ("branding.primary_color_dark", &b.primary_color_dark, CARD_DARK),
    ] {
        if value.is_empty() {
            continue;
        }
        let c = Rgb::parse(value).ok_or_else(|| format!("key `{key}`: a colour as #rrggbb, not `{value}`"))?;
        let ratio = c.contrast(card);
        if ratio < 4.5 {
            return Err(format!(
                "key `{key}`: {value} has a contrast of {ratio:.1}:1 with the page ({}); links and buttons need 4.5:1",
                card.css()
            ));
        }
    }
    if !b.logo_file.is_empty() {
        let lower = b.logo_file.to_ascii_lowercase();
        if !(lower.ends_with(".svg") || lower.ends_with(".png")) {
            return Err("key `branding.logo_file`: an .svg or .png file".into());
        }
    }
    Ok(())
}

/// A logo as served at `/static/logo`.
#[derive(Debug)]
pub struct Logo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// The brand of this server, built once at start.
#[derive(Debug)]
pub struct Brand {
    pub name: String,
    pub logo: Option<Logo>,
    /// The stylesheet with the brand's colours.
    pub stylesheet: String,
}

impl Default for Brand {
    fn default() -> Self {
        Brand { name: "Portcullis".into(), logo: None, stylesheet: super::STYLESHEET.to_owned() }
    }
}

impl Brand {
    pub fn from_config(b: &BrandingConfig) -> Result<Brand, String> {
        check(b)?;
        let logo = if b.logo_file.is_empty() {
            None
        } else {
            let path = std::path::Path::new(&b.logo_file);
            let size = std::fs::metadata(path)
                .map_err(|e| format!("key `branding.logo_file`: cannot read {} ({e})", path.display()))?
                .len();
            if size > MAX_LOGO_BYTES {
                return Err(format!("key `branding.logo_file`: {} is larger than 256 KiB", path.display()));
            }
            let bytes = std::fs::read(path)
                .map_err(|e| format!("key `branding.logo_file`: cannot read {} ({e})", path.display()))?;
            let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
                "image/png"
            } else if String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).contains("<svg") {
                "image/svg+xml"
            } else {
                return Err(format!("key `branding.logo_file`: {} is neither PNG nor SVG", path.display()));
            };
            Some(Logo { content_type, bytes })
        };
        let mut stylesheet = super::STYLESHEET.to_owned();
        let rule = |c: Rgb| format!(":root {{ --accent: {}; --on-accent: {}; }}", c.css(), c.text_on().css());
        if let Some(c) = Rgb::parse(&b.primary_color) {
            stylesheet.push_str(&format!("\n/* branding */\n{}\n", rule(c)));
        }
        if let Some(c) = Rgb::parse(&b.primary_color_dark) {
            stylesheet.push_str(&format!("@media (prefers-color-scheme: dark) {{ {} }}\n", rule(c)));
        }
        Ok(Brand { name: b.name.trim().to_owned(), logo, stylesheet })
    }
}

tokio::task_local! {
    static CURRENT: Arc<Brand>;
}

/// Runs `f` (a request's handling) with `brand`.
pub async fn scope<F: Future>(brand: Arc<Brand>, f: F) -> F::Output {
    CURRENT.scope(brand, f).await
}

/// The product's name, for the pages.
pub fn name() -> String {
    CURRENT.try_with(|b| b.name.clone()).unwrap_or_else(|_| "Portcullis".into())
}

/// Whether the pages show a logo.
pub fn has_logo() -> bool {
    CURRENT.try_with(|b| b.logo.is_some()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_checked_and_text_chosen() {
        let ok = BrandingConfig { primary_color: "#0b5394".into(), ..BrandingConfig::default() };
        assert!(check(&ok).is_ok());
        let pale = BrandingConfig { primary_color: "#ffcc00".into(), ..BrandingConfig::default() };
        assert!(check(&pale).unwrap_err().contains("contrast"));
        let dark_on_dark = BrandingConfig { primary_color_dark: "#202830".into(), ..BrandingConfig::default() };
        assert!(check(&dark_on_dark).is_err());
        let bad = BrandingConfig { primary_color: "blue".into(), ..BrandingConfig::default() };
        assert!(check(&bad).unwrap_err().contains("#rrggbb"));
        assert_eq!(Rgb(0x0b, 0x53, 0x94).text_on(), TEXT_ON_LIGHT);
        assert_eq!(Rgb(0x6e, 0xa8, 0xfe).text_on(), TEXT_ON_DARK);
        assert!((Rgb(0, 0, 0).contrast(Rgb(255, 255, 255)) - 21.0).abs() < 0.01);
    }

    #[test]
    fn the_stylesheet_carries_the_colours() {
        let b = Brand::from_config(&BrandingConfig {
            name: "Acme ID".into(),
            primary_color: "#0b5394".into(),
            primary_color_dark: "#9fc5e8".into(),
            ..BrandingConfig::default()
        })
        .unwrap();
        assert!(b.stylesheet.contains("--accent: #0b5394; --on-accent: #ffffff;"));
        assert!(
            b.stylesheet.contains("prefers-color-scheme: dark) { :root { --accent: #9fc5e8; --on-accent: #0d1117;")
        );
        let none = BrandingConfig { name: " ".into(), ..BrandingConfig::default() };
        assert!(Brand::from_config(&none).is_err());
    }
}
