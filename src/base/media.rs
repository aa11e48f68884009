//! The type of a file from its content, never from its name: what a resource or an uploaded
//! file really is. The `infer` crate reads the magic numbers.

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Media {
    Pdf,
    Png,
    Jpeg,
    Mp3,
    Ogg,
    M4a,
    Mp4,
    Webm,
    /// A ZIP: only ever an e-learning package, checked further by `scorm::zipped`.
    Zip,
}

impl Media {
    pub fn mime(self) -> &'static str {
        match self {
            Media::Pdf => "application/pdf",
            Media::Png => "image/png",
            Media::Jpeg => "image/jpeg",
            Media::Mp3 => "audio/mpeg",
            Media::Ogg => "audio/ogg",
            Media::M4a => "audio/mp4",
            Media::Mp4 => "video/mp4",
            Media::Webm => "video/webm",
            Media::Zip => "application/zip",
        }
    }

    /// The extension a file of this type is named with.
    pub fn ext(self) -> &'static str {
        match self {
            Media::Pdf => "pdf",
            Media::Png => "png",
            Media::Jpeg => "jpg",
            Media::Mp3 => "mp3",
            Media::Ogg => "ogg",
            Media::M4a => "m4a",
            Media::Mp4 => "mp4",
            Media::Webm => "webm",
            Media::Zip => "zip",
        }
    }

    /// How a page shows it: `video`, `audio`, `image` or `document`.
    pub fn family(self) -> &'static str {
        match self {
            Media::Pdf => "document",
            Media::Png | Media::Jpeg => "image",
            Media::Mp3 | Media::Ogg | Media::M4a => "audio",
            Media::Mp4 | Media::Webm => "video",
            Media::Zip => "package",
        }
    }
}

/// The media type of these first bytes (a few kilobytes are enough), or `None`.
pub fn sniff(head: &[u8]) -> Option<Media> {
    Some(match infer::get(head)?.mime_type() {
        "application/pdf" => Media::Pdf,
        "image/png" => Media::Png,
        "image/jpeg" => Media::Jpeg,
        "audio/mpeg" => Media::Mp3,
        "audio/ogg" => Media::Ogg,
        "audio/m4a" | "audio/x-m4a" => Media::M4a,
        "video/mp4" => Media::Mp4,
        "video/webm" => Media::Webm,
        "application/zip" => Media::Zip,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_decides_not_the_name() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), Some(Media::Pdf));
        let mp4 = [
            0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm', 0, 0, 2, 0,
        ];
        assert_eq!(sniff(&mp4), Some(Media::Mp4));
        assert_eq!(
            sniff(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81]),
            Some(Media::Webm)
        );
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0"), Some(Media::Mp3));
        // A text file renamed video.mp4 is still text.
        assert_eq!(sniff(b"Ceci n'est pas une vid\xc3\xa9o."), None);
        // A ZIP is only ever an e-learning package, checked further by `scorm::zipped`.
        assert_eq!(sniff(b"PK\x03\x04\x14\0\0\0"), Some(Media::Zip));
    }
}
