//! GOST R 34.10-2012 signatures, checked (never made: a ГОСТ key stays in
//! its certified tool, docs/signing.md). The curves are those of RFC 4357
//! (CryptoPro A, B, C and their exchange aliases) and RFC 7836 (TC26
//! 256-bit set A; 512-bit sets A, B, C), in their Weierstrass form. The
//! byte orders are those of RFC 4491 and the GOST engine: the public key
//! is x and y little-endian, the digest is read little-endian, and the
//! signature is s then r, big-endian.
//!
//! A signature proves little if its check is wrong, so the curves' numbers
//! are checked by the tests against signatures made by OpenSSL's GOST
//! engine on every curve.

use der::Decode;
use der::asn1::{ObjectIdentifier as Oid, OctetString};
use num_bigint::BigUint;
use spki::SubjectPublicKeyInfoOwned;

use super::Outcome;
use super::oid::Digest;

/// A curve y² = x³ + ax + b over GF(p) with a base point of prime order q.
struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    q: BigUint,
    x: BigUint,
    y: BigUint,
}

fn n(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap_or_default()
}

/// The curve of a parameter set, by its object identifier.
fn curve(set: &Oid) -> Option<Curve> {
    let c = |p: &str, a: &str, b: &str, q: &str, x: &str, y: &str| Curve {
        p: n(p),
        a: n(a),
        b: n(b),
        q: n(q),
        x: n(x),
        y: n(y),
    };
    let cryptopro_a = || {
        c(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
            "A6",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
            "1",
            "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
        )
    };
    let cryptopro_b = || {
        c(
            "8000000000000000000000000000000000000000000000000000000000000C99",
            "8000000000000000000000000000000000000000000000000000000000000C96",
            "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
            "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
            "1",
            "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC",
        )
    };
    let cryptopro_c = || {
        c(
            "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
            "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
            "805A",
            "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
            "0",
            "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67",
        )
    };
    Some(match set.to_string().as_str() {
        // CryptoPro A, its exchange alias XchA, and TC26 256 B.
        "1.2.643.2.2.35.1" | "1.2.643.2.2.36.0" | "1.2.643.7.1.2.1.1.2" => cryptopro_a(),
        // CryptoPro B, and TC26 256 C.
        "1.2.643.2.2.35.2" | "1.2.643.7.1.2.1.1.3" => cryptopro_b(),
        // CryptoPro C, its exchange alias XchB, and TC26 256 D.
        "1.2.643.2.2.35.3" | "1.2.643.2.2.36.1" | "1.2.643.7.1.2.1.1.4" => cryptopro_c(),
        // TC26 256 A (a twisted Edwards curve, in Weierstrass form).
        "1.2.643.7.1.2.1.1.1" => c(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
            "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
            "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
            "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
            "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
            "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C",
        ),
        // TC26 512 A.
        "1.2.643.7.1.2.1.2.1" => c(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
            "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
            "3",
            "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
        ),
        // TC26 512 B.
        "1.2.643.7.1.2.1.2.2" => c(
            "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
            "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006C",
            "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116",
            "800000000000000000000000000000000000000000000000000000000000000149A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
            "2",
            "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD",
        ),
        // TC26 512 C (a twisted Edwards curve, in Weierstrass form).
        "1.2.643.7.1.2.1.2.3" => c(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
            "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E143064546E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3",
            "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE038CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1",
            "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
            "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043AA27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148",
            "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9BE18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F",
        ),
        _ => return None,
    })
}

/// A point in Jacobian coordinates (x = X/Z², y = Y/Z³); Z = 0 is infinity.
#[derive(Clone)]
struct Point {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl Curve {
    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - (b % &self.p)) % &self.p
    }

    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a * b) % &self.p
    }

    fn infinity() -> Point {
        Point {
            x: BigUint::from(1u8),
            y: BigUint::from(1u8),
            z: BigUint::from(0u8),
        }
    }

    fn double(&self, pt: &Point) -> Point {
        if pt.z == BigUint::from(0u8) || pt.y == BigUint::from(0u8) {
            return Curve::infinity();
        }
        let yy = self.mul(&pt.y, &pt.y);
        let s = self.mul(&(BigUint::from(4u8) * &pt.x), &yy);
        let zz = self.mul(&pt.z, &pt.z);
        let m = (BigUint::from(3u8) * self.mul(&pt.x, &pt.x)
            + self.mul(&self.a, &self.mul(&zz, &zz)))
            % &self.p;
        let x = self.sub(&self.mul(&m, &m), &(BigUint::from(2u8) * &s));
        let y = self.sub(
            &self.mul(&m, &self.sub(&s, &x)),
            &(BigUint::from(8u8) * self.mul(&yy, &yy)),
        );
        let z = self.mul(&(BigUint::from(2u8) * &pt.y), &pt.z);
        Point { x, y, z }
    }

    fn add(&self, p1: &Point, p2: &Point) -> Point {
        let zero = BigUint::from(0u8);
        if p1.z == zero {
            return p2.clone();
        }
        if p2.z == zero {
            return p1.clone();
        }
        let z1z1 = self.mul(&p1.z, &p1.z);
        let z2z2 = self.mul(&p2.z, &p2.z);
        let u1 = self.mul(&p1.x, &z2z2);
        let u2 = self.mul(&p2.x, &z1z1);
        let s1 = self.mul(&p1.y, &self.mul(&p2.z, &z2z2));
        let s2 = self.mul(&p2.y, &self.mul(&p1.z, &z1z1));
        if u1 == u2 {
            return if s1 == s2 {
                self.double(p1)
            } else {
                Curve::infinity()
            };
        }
        let h = self.sub(&u2, &u1);
        let r = self.sub(&s2, &s1);
        let hh = self.mul(&h, &h);
        let hhh = self.mul(&h, &hh);
        let v = self.mul(&u1, &hh);
        let x = self.sub(
            &self.sub(&self.mul(&r, &r), &hhh),
            &(BigUint::from(2u8) * &v),
        );
        let y = self.sub(&self.mul(&r, &self.sub(&v, &x)), &self.mul(&s1, &hhh));
        let z = self.mul(&h, &self.mul(&p1.z, &p2.z));
        Point { x, y, z }
    }

    /// k·pt, by doubling and adding.
    fn times(&self, k: &BigUint, pt: &Point) -> Point {
        let mut acc = Curve::infinity();
        for i in (0..k.bits()).rev() {
            acc = self.double(&acc);
            if k.bit(i) {
                acc = self.add(&acc, pt);
            }
        }
        acc
    }

    /// The affine x of a point (none for infinity).
    fn affine_x(&self, pt: &Point) -> Option<BigUint> {
        let zi = pt.z.modinv(&self.p)?;
        Some(self.mul(&pt.x, &self.mul(&zi, &zi)))
    }

    fn on_curve(&self, x: &BigUint, y: &BigUint) -> bool {
        let left = self.mul(y, y);
        let right = (self.mul(&self.mul(x, x), x) + self.mul(&self.a, x) + &self.b) % &self.p;
        left == right
    }
}

/// Checks a GOST R 34.10-2012 signature (s ‖ r, big-endian) over a
/// GOST R 34.11-2012 digest.
pub(super) fn check(
    key: &SubjectPublicKeyInfoOwned,
    d: Digest,
    digest: &[u8],
    signature: &[u8],
) -> Outcome {
    let Some(set) = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<Vec<Oid>>().ok())
        .and_then(|v| v.into_iter().next())
    else {
        return Outcome::Unsupported("a GOST R 34.10-2012 key without its curve".into());
    };
    let Some(c) = curve(&set) else {
        return Outcome::Unsupported(format!("GOST R 34.10-2012 on the curve {set}"));
    };
    let size = if c.p.bits() > 256 { 64 } else { 32 };
    if !matches!(
        (size, d),
        (32, Digest::Streebog256) | (64, Digest::Streebog512)
    ) {
        return Outcome::Bad(format!(
            "a {}-bit GOST key does not go with {}",
            size * 8,
            d.name()
        ));
    }
    let Some(raw) = key.subject_public_key.as_bytes() else {
        return Outcome::Bad("the GOST public key is not whole bytes".into());
    };
    let Ok(point) = OctetString::from_der(raw) else {
        return Outcome::Bad("the GOST public key is not an OCTET STRING".into());
    };
    let point = point.as_bytes();
    if point.len() != 2 * size || signature.len() != 2 * size {
        return Outcome::Bad("the GOST key or signature has the wrong length".into());
    }
    let qx = BigUint::from_bytes_le(&point[..size]);
    let qy = BigUint::from_bytes_le(&point[size..]);
    if !c.on_curve(&qx, &qy) {
        return Outcome::Bad("the GOST public key is not on its curve".into());
    }
    let s = BigUint::from_bytes_be(&signature[..size]);
    let r = BigUint::from_bytes_be(&signature[size..]);
    let zero = BigUint::from(0u8);
    if r == zero || s == zero || r >= c.q || s >= c.q {
        return Outcome::Bad("the GOST signature is out of range".into());
    }
    let mut e = BigUint::from_bytes_le(digest) % &c.q;
    if e == zero {
        e = BigUint::from(1u8);
    }
    let Some(v) = e.modinv(&c.q) else {
        return Outcome::Bad("the digest has no inverse".into());
    };
    let z1 = (&s * &v) % &c.q;
    let z2 = ((&c.q - &r) * &v) % &c.q;
    let one = BigUint::from(1u8);
    let g = Point {
        x: c.x.clone(),
        y: c.y.clone(),
        z: one.clone(),
    };
    let pk = Point {
        x: qx,
        y: qy,
        z: one,
    };
    let sum = c.add(&c.times(&z1, &g), &c.times(&z2, &pk));
    match c.affine_x(&sum) {
        Some(x) if &x % &c.q == r => Outcome::Good,
        _ => Outcome::Bad("the GOST R 34.10-2012 signature does not match".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made with OpenSSL's GOST engine: `openssl genpkey -engine gost
    /// -algorithm gost2012_256 -pkeyopt paramset:P`, its public key, and
    /// `openssl dgst -engine gost -md_gost12_256 -sign` of MESSAGE.
    const VECTORS: &[(&str, &str, &str)] = &[
        (
            "256A",
            "3066301f06082a85030701010101301306072a85030202230106082a850307010102020343000440591fd02704d4ec47fa949c8a1051c7e32d4f5bed4666c8f003b66ad7ed7066de065547816ca07f159e468d6ac2231b34362fc2d6f240ad3dada7bcc1a2454e04",
            "471a9995336b9ec50485a71fb0e41eb5172ca50af0dd33ee19c27671a26cb6720f62871b8523c1e45abaf7646017f0808bc8636f7219da1d3c7c994d1fd9633d",
        ),
        (
            "256B",
            "3066301f06082a85030701010101301306072a85030202230206082a850307010102020343000440fb8c3123493b0fcefd7ec955421779b8c95a6cf0893c4ee003316a79d5f6ad613adff578fd88ec0697874b42effd6013d8f5ee7c3ea52764cc0ca08c0309bb00",
            "06dcc6e1b722d65fea758c1d80d690bc16b23f8adc8980211e992475860d63f61651134dbede312cfa24605c69243c365e160a03892c02a8275d80248ba623b5",
        ),
        (
            "256C",
            "3066301f06082a85030701010101301306072a85030202230306082a850307010102020343000440afa6f5a03085310a1070cc9c88917559d06bed91e1ef9eaa97de11a2332ab94945770819da2e8dc8e8bb5db85407164fb4cdab83d3d57ff116c33f366089390e",
            "55382a8b99be33e615bd27322d7dc997049b453e9a684ccd0543635c400e020330d0ae091730bc9011292cb65ae1da6f2417120236fdbcc00f18d1d5ed7dce4c",
        ),
        (
            "256TCA",
            "305e301706082a85030701010101300b06092a850307010201010103430004400a792a1e73f7e1c97a80612235dcd27a02c67daa25f69f98c963af54a0a2da2b45ad88d48ead4f5101d99fe429e1c108003fe6070ad5f3097305b4ef59bd0b47",
            "07480f3476944ab9e824b201b147fb04cb861c0bc5dc7b9245e329cd353965852c5f981df1d0eef1bb4f0681298683c9f1e9b55935054196bee675bbeb93e66d",
        ),
        (
            "256XA",
            "3066301f06082a85030701010101301306072a85030202240006082a85030701010202034300044003e4eb3cb0ad0656f26bbb45a0a34bc576a289a06454553bf51e6dacc62fb125b220e0598130788c7d70954704d69649e28bf0fb812666ebbb25bcf6cf40c09e",
            "68877543254ba26198437cece5b47c9feb4e31cc97977ac015f7e82e05d059b737d3e49e8d79209a904a053792b059ae436e25268afd062db10db66a3f5a110e",
        ),
        (
            "256XB",
            "3066301f06082a85030701010101301306072a85030202240106082a8503070101020203430004409c7779266b8b5338aa1a5d0657605bef2922a15e4521ae49b6761480090c6171d09344143fe3ea0625e6563bc51ed3645f6e4d0da9a63ced923cff6868a94401",
            "2909655b3ae5ee15d622d128d42d30d74c59dfd78fb6a41b442f4fbe33e9593c2050e7e940f12aff83ef3d63423223f834aa5ea68dde2515f82d8953351d15ae",
        ),
        (
            "512A",
            "3081aa302106082a85030701010102301506092a850307010201020106082a850307010102030381840004818091b9473a3090ef675373f4774ef11e165f0a5ea0ab6898cf58ff66b3d9cfd4e8e8352ac714966a4624619b9a0eb94d014df5c3e73a67b71447ff2f82e1477a703a333790548ac554ccb9f2c262a8f8b0b1ffdfd6a9356ae0394a919b840d4263d613684b33659b8c32d3af4812ddd7e91691aa0fb0b3ae045a30f2b0e0479b9e",
            "a6ebf6c7aaab3471e64332d767871bf39f150d2c724b209911823bb5bdf4a00cd8ea3b974d00b1c2df63ddf9fb5b8046898bdefdb66a78a23027b4fbd4ae855d90e004854d72bb922abf85475da882a4e7f7d88853c9d612d459f5144517a8d34b758014e74b34fba1e268aa58824e16a25657c2c31253ac37c9197685f7b1c3",
        ),
        (
            "512B",
            "3081aa302106082a85030701010102301506092a850307010201020206082a8503070101020303818400048180383f8a9e119872dc792bf1d4f7a54d80b1c9b8c22d057b5d8118645af425fe2a7a6fc259a7ca6efd38a6d2a4f37f759117cd1608abddd5e52d5fea3e97ca8041a1ba3bdf8cf41e4d404ac30678c6979e10e9fbd5f56a03e1043c361748d9397842350590a230175bac0e42693c012b427e3b1d669f7f304b6296713ff529ed2b",
            "0aacb7eb02f9188eaa56c0aaae1befd7cdac44108cef298194518521340935248da8c3e61bf259838b35774eb931f3b9bb1e029eb1573bec6009ed0fdddba8714ce98b8d730a81752bfd1e91cbcd61da61bb599b19723a3a56a44ae37dbf0ae8fa4ff23b4af749a77cfb24c460fe10e11171865f202ac6e64ddf4d72f29748e7",
        ),
        (
            "512C",
            "3081a0301706082a85030701010102300b06092a85030701020102030381840004818093d896d5bdae97719b6f69a347ccc8cfc6ae8d922508bf9e64ecd7f5998ce032cfe97c6eeeb407262e75199ea7ea4ceba0e232da9b5ea6df98fc94488a41af41c80f999150827a49e5529c74ea6aeae87ee6df99290e4f08fd78d82782a646eb1805386ca5cc0e0a0962744685d5c296e9d82a8564bf53b02e33ef91f41768fb",
            "2c6de65400e58e8e50328f376c2c20797fc062d80c504f13105f223c237af887b18e15ea58b2f4bbf14ff03f26c4e34898eb31a04e6e53a2771b40b5d9b2e4d20ddd1b41077cee0f62a0d85e655371557c40cef84fe8b62c8553171253a2bc12c26e5014ef96f252112f9d5ae14e16d334f34b5b96b3dd70032f6497d4706d0e",
        ),
    ];
    const MESSAGE: &[u8] = b"tabel test vector";

    #[test]
    fn signatures_of_the_gost_engine_verify_on_every_curve() {
        for (name, key, sig) in VECTORS {
            let key = SubjectPublicKeyInfoOwned::from_der(
                &data_encoding::HEXLOWER.decode(key.as_bytes()).unwrap(),
            )
            .unwrap();
            let sig = data_encoding::HEXLOWER.decode(sig.as_bytes()).unwrap();
            let d = if name.starts_with("512") {
                Digest::Streebog512
            } else {
                Digest::Streebog256
            };
            let digest = d.hash(&[MESSAGE]);
            assert_eq!(check(&key, d, &digest, &sig), Outcome::Good, "{name}");
            // Another message, another signature: refused.
            let other = d.hash(&[b"tabel test vectoR"]);
            assert!(
                matches!(check(&key, d, &other, &sig), Outcome::Bad(_)),
                "{name}"
            );
            let mut bent = sig.clone();
            bent[5] ^= 1;
            assert!(
                matches!(check(&key, d, &digest, &bent), Outcome::Bad(_)),
                "{name}"
            );
        }
    }
}
