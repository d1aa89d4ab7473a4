//! Percent-decoding (`%XX` escapes), shared by the http router, query strings and the
//! `OTEL_*` header lists.

/// Decodes `%XX` escapes of exactly two hex digits; anything else (`%zz`, `%+1`, a `%` near the
/// end) is kept as written, and invalid UTF-8 is replaced.
pub fn decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', high, low]) => hex_digit(*high).zip(hex_digit(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                out.push(high << 4 | low);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One hex digit's value; `u8::from_str_radix` would also take a sign.
fn hex_digit(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn only_two_hex_digits_make_an_escape() {
        assert_eq!(decode("a%2Cb%zz%4"), "a,b%zz%4");
        assert_eq!(decode("hello%20world%2fx"), "hello world/x");
        assert_eq!(decode("%+1%-1%+f"), "%+1%-1%+f");
        assert_eq!(decode("%ff"), "\u{fffd}");
        assert_eq!(decode("%"), "%");
    }
}
