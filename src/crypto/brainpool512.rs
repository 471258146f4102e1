//! ECDSA verification on brainpoolP512r1 (RFC 5639), which no RustCrypto
//! crate covers (bp256 and bp384 exist; there is no bp512). Verification
//! only: every input is public, so plain big-integer arithmetic (no
//! constant time) is enough. Jacobian coordinates, Shamir's trick.
//! Checked against signatures made by OpenSSL and their tampered twins
//! (tests/all/algorithms.rs) and by the unit tests below.

use num_bigint::BigUint;

/// The curve y² = x³ + ax + b over GF(p), base point G of prime order n.
struct Curve {
    p: BigUint,
    a: BigUint,
    b: BigUint,
    g: (BigUint, BigUint),
    n: BigUint,
}

fn hex(h: &str) -> BigUint {
    BigUint::parse_bytes(h.as_bytes(), 16).expect("curve constant")
}

fn curve() -> &'static Curve {
    static CURVE: std::sync::OnceLock<Curve> = std::sync::OnceLock::new();
    CURVE.get_or_init(|| Curve {
        p: hex(concat!(
            "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330871",
            "7d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3"
        )),
        a: hex(concat!(
            "7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc",
            "2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca"
        )),
        b: hex(concat!(
            "3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a7",
            "2bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723"
        )),
        g: (
            hex(concat!(
                "81aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098e",
                "ff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f822"
            )),
            hex(concat!(
                "7dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111",
                "b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892"
            )),
        ),
        n: hex(concat!(
            "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870",
            "553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069"
        )),
    })
}

/// A point in Jacobian coordinates (X/Z², Y/Z³); Z = 0 is infinity.
#[derive(Clone)]
struct Point {
    x: BigUint,
    y: BigUint,
    z: BigUint,
}

impl Curve {
    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        a * b % &self.p
    }

    fn sub(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - b % &self.p) % &self.p
    }

    fn infinity() -> Point {
        Point { x: BigUint::from(1u8), y: BigUint::from(1u8), z: BigUint::from(0u8) }
    }

    fn double(&self, q: &Point) -> Point {
        if q.z == BigUint::from(0u8) || q.y == BigUint::from(0u8) {
            return Curve::infinity();
        }
        let yy = self.mul(&q.y, &q.y);
        let s = self.mul(&(BigUint::from(4u8) * &q.x), &yy);
        let zz = self.mul(&q.z, &q.z);
        let m = (BigUint::from(3u8) * self.mul(&q.x, &q.x)
            + self.mul(&self.a, &self.mul(&zz, &zz)))
            % &self.p;
        let x = self.sub(&self.mul(&m, &m), &(BigUint::from(2u8) * &s));
        let y =
            self.sub(&self.mul(&m, &self.sub(&s, &x)), &(BigUint::from(8u8) * self.mul(&yy, &yy)));
        let z = self.mul(&(BigUint::from(2u8) * &q.y), &q.z);
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
            return if s1 == s2 { self.double(p1) } else { Curve::infinity() };
        }
        let h = self.sub(&u2, &u1);
        let r = self.sub(&s2, &s1);
        let hh = self.mul(&h, &h);
        let hhh = self.mul(&h, &hh);
        let v = self.mul(&u1, &hh);
        let x = self.sub(&self.sub(&self.mul(&r, &r), &hhh), &(BigUint::from(2u8) * &v));
        let y = self.sub(&self.mul(&r, &self.sub(&v, &x)), &self.mul(&s1, &hhh));
        let z = self.mul(&h, &self.mul(&p1.z, &p2.z));
        Point { x, y, z }
    }

    /// u1·G + u2·Q in one pass over the bits (Shamir's trick).
    fn mul_add(&self, u1: &BigUint, u2: &BigUint, q: &Point) -> Point {
        let g = Point { x: self.g.0.clone(), y: self.g.1.clone(), z: BigUint::from(1u8) };
        let gq = self.add(&g, q);
        let mut acc = Curve::infinity();
        for i in (0..u1.bits().max(u2.bits())).rev() {
            acc = self.double(&acc);
            match (u1.bit(i), u2.bit(i)) {
                (true, true) => acc = self.add(&acc, &gq),
                (true, false) => acc = self.add(&acc, &g),
                (false, true) => acc = self.add(&acc, q),
                (false, false) => {}
            }
        }
        acc
    }

    /// The affine x of a point (None for infinity).
    fn affine_x(&self, q: &Point) -> Option<BigUint> {
        if q.z == BigUint::from(0u8) {
            return None;
        }
        let z_inv = q.z.modpow(&(&self.p - BigUint::from(2u8)), &self.p);
        Some(self.mul(&q.x, &self.mul(&z_inv, &z_inv)))
    }

    /// A SEC1 public key (uncompressed or compressed) on this curve.
    fn point(&self, sec1: &[u8]) -> Option<Point> {
        let (x, y) = match (sec1.first()?, sec1.len()) {
            (4, 129) => (BigUint::from_bytes_be(&sec1[1..65]), BigUint::from_bytes_be(&sec1[65..])),
            (2 | 3, 65) => {
                let x = BigUint::from_bytes_be(&sec1[1..]);
                let rhs =
                    (self.mul(&self.mul(&x, &x), &x) + self.mul(&self.a, &x) + &self.b) % &self.p;
                // p ≡ 3 (mod 4): the square root is rhs^((p+1)/4).
                let mut y = rhs.modpow(&((&self.p + BigUint::from(1u8)) >> 2), &self.p);
                if y.bit(0) != (sec1[0] == 3) {
                    y = &self.p - y;
                }
                (x, y)
            }
            _ => return None,
        };
        let on_curve = x < self.p
            && y < self.p
            && self.mul(&y, &y)
                == (self.mul(&self.mul(&x, &x), &x) + self.mul(&self.a, &x) + &self.b) % &self.p;
        on_curve.then(|| Point { x, y, z: BigUint::from(1u8) })
    }
}

/// Why a brainpoolP512r1 signature does not verify.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Failure {
    BadKey,
    Mismatch,
}

/// Verifies `(r, s)` over the message digest `prehash` with the SEC1
/// public key `point`.
pub(super) fn verify(point: &[u8], prehash: &[u8], r: &[u8], s: &[u8]) -> Result<(), Failure> {
    let c = curve();
    let q = c.point(point).ok_or(Failure::BadKey)?;
    let (r, s) = (BigUint::from_bytes_be(r), BigUint::from_bytes_be(s));
    let zero = BigUint::from(0u8);
    if r == zero || s == zero || r >= c.n || s >= c.n {
        return Err(Failure::Mismatch);
    }
    // The digest's leftmost bits, as many as the order has (SEC1 4.1.4).
    let mut e = BigUint::from_bytes_be(prehash);
    let excess = (prehash.len() as u64 * 8).saturating_sub(c.n.bits());
    e >>= excess;
    let w = s.modpow(&(&c.n - BigUint::from(2u8)), &c.n);
    let u1 = e * &w % &c.n;
    let u2 = &r * &w % &c.n;
    let x = c.affine_x(&c.mul_add(&u1, &u2, &q)).ok_or(Failure::Mismatch)?;
    if x % &c.n == r { Ok(()) } else { Err(Failure::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(q: &Point) -> Vec<u8> {
        let c = curve();
        let z_inv = q.z.modpow(&(&c.p - BigUint::from(2u8)), &c.p);
        let zz = c.mul(&z_inv, &z_inv);
        let (x, y) = (c.mul(&q.x, &zz), c.mul(&q.y, &c.mul(&zz, &z_inv)));
        let pad = |v: BigUint| {
            let b = v.to_bytes_be();
            [vec![0u8; 64 - b.len()], b].concat()
        };
        [vec![4u8], pad(x), pad(y)].concat()
    }

    /// A signature made here with a known key (k chosen), checked the
    /// textbook way: it verifies, and not after any change.
    #[test]
    fn signs_and_verifies_with_a_known_key() {
        let c = curve();
        let g = Point { x: c.g.0.clone(), y: c.g.1.clone(), z: BigUint::from(1u8) };
        let d = hex("1234567890abcdef1234567890abcdef1234567890abcdef");
        let q = c.mul_add(&BigUint::from(0u8), &d, &g);
        let key = encode(&q);
        assert!(c.point(&key).is_some(), "d·G is on the curve");
        let digest = crate::crypto::Hash::Sha512.digest(&[b"brainpool"]);
        let e = BigUint::from_bytes_be(&digest);
        let k = hex("fedcba0987654321fedcba0987654321");
        let r = c.affine_x(&c.mul_add(&k, &BigUint::from(0u8), &g)).unwrap() % &c.n;
        let s = k.modpow(&(&c.n - BigUint::from(2u8)), &c.n) * (e + &r * &d) % &c.n;
        assert_eq!(verify(&key, &digest, &r.to_bytes_be(), &s.to_bytes_be()), Ok(()));
        let other = crate::crypto::Hash::Sha512.digest(&[b"brainpoo1"]);
        assert_eq!(
            verify(&key, &other, &r.to_bytes_be(), &s.to_bytes_be()),
            Err(Failure::Mismatch)
        );
        assert_eq!(
            verify(&key, &digest, &(&r + 1u8).to_bytes_be(), &s.to_bytes_be()),
            Err(Failure::Mismatch)
        );
        assert_eq!(
            verify(&key, &digest, &c.n.to_bytes_be(), &s.to_bytes_be()),
            Err(Failure::Mismatch),
            "r = n is out of range"
        );
        let mut off_curve = key.clone();
        off_curve[100] ^= 1;
        assert_eq!(
            verify(&off_curve, &digest, &r.to_bytes_be(), &s.to_bytes_be()),
            Err(Failure::BadKey)
        );
        // The compressed form of the same key.
        let compressed = [vec![2 + (key[128] & 1)], key[1..65].to_vec()].concat();
        assert_eq!(verify(&compressed, &digest, &r.to_bytes_be(), &s.to_bytes_be()), Ok(()));
    }
}
