//! A small reader of DER elements, for the few places where the exact
//! bytes matter more than the decoded value: the signed attributes a
//! signature covers are checked as they were encoded by whoever signed,
//! and a signature in a PDF is followed by zero padding.

use anyhow::{Result, bail};

/// One DER element.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    /// The (single-byte) tag.
    pub tag: u8,
    /// The whole element: tag, length and value.
    pub raw: &'a [u8],
    /// The value.
    pub value: &'a [u8],
}

/// Reads the element at the start of `input`; returns it and what follows.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let Some((&tag, rest)) = input.split_first() else {
        bail!("DER: the data ends where an element should start");
    };
    if tag & 0x1f == 0x1f {
        bail!("DER: multi-byte tags are not used here");
    }
    let Some((&first, rest)) = rest.split_first() else {
        bail!("DER: the data ends inside an element's length");
    };
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else if first == 0x80 {
        bail!("DER: an indefinite length (BER) where DER is required");
    } else {
        let n = (first & 0x7f) as usize;
        if n > 4 || rest.len() < n {
            bail!("DER: a length of {n} bytes");
        }
        let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        bail!(
            "DER: an element of {len} bytes where only {} remain",
            rest.len()
        );
    }
    let header = input.len() - rest.len();
    Ok((
        Tlv {
            tag,
            raw: &input[..header + len],
            value: &rest[..len],
        },
        &rest[len..],
    ))
}

/// The elements inside a constructed element's value.
pub fn children(value: &[u8]) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
    }
    Ok(out)
}

/// The signed attributes of the first signer of a CMS `ContentInfo`
/// exactly as encoded, re-tagged as the `SET OF` that the signature covers
/// (RFC 5652, 5.4); `None` when the signer signed the content directly.
pub fn signed_attributes(content_info: &[u8]) -> Result<Option<Vec<u8>>> {
    let (ci, _) = read(content_info)?;
    let ci = children(ci.value)?;
    let Some(explicit) = ci.get(1).filter(|t| t.tag == 0xa0) else {
        bail!("CMS: the ContentInfo has no content");
    };
    let (sd, _) = read(explicit.value)?;
    let fields = children(sd.value)?;
    let Some(infos) = fields.last().filter(|t| t.tag == 0x31) else {
        bail!("CMS: the SignedData has no signerInfos");
    };
    let Some(first) = children(infos.value)?.into_iter().next() else {
        bail!("CMS: the SignedData has no signer");
    };
    let found = children(first.value)?.into_iter().find(|t| t.tag == 0xa0);
    Ok(found.map(|t| {
        let mut v = t.raw.to_vec();
        v[0] = 0x31;
        v
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_and_refuses_what_is_not_der() {
        let (t, rest) = read(&[0x30, 0x03, 0x02, 0x01, 0x05, 0xff]).unwrap();
        assert_eq!((t.tag, t.raw.len(), rest), (0x30, 5, &[0xff][..]));
        assert_eq!(children(t.value).unwrap()[0].value, &[5]);
        let mut long = vec![0x04, 0x82, 0x01, 0x00];
        long.extend([7u8; 256]);
        assert_eq!(read(&long).unwrap().0.value.len(), 256);
        assert!(read(&[0x30, 0x80, 0, 0]).is_err());
        assert!(read(&[0x30, 0x05, 1]).is_err());
        assert!(read(&[]).is_err());
    }
}
