//! PerfView's compressed integers in the node blob.
//!
//! A signed, big-endian base-128 code (not LEB128): 7-bit groups, most
//! significant first; every byte but the last has bit 7 set; the first group
//! is sign-extended from its bit 6. At most 5 bytes; the fifth byte is added
//! whole. Arithmetic is 32-bit and wraps, as in PerfView's `ReadCompressedInt`.

/// Longest encoding in bytes.
pub const MAX_LEN: usize = 5;

/// Decodes one value from `next`, which yields the following byte (or
/// `None` at the end of the data). Returns `None` if the data ends first.
pub fn decode(mut next: impl FnMut() -> Option<u8>) -> Option<i32> {
    let b = next()?;
    // Sign-extend the low 7 bits.
    let mut v = ((b << 1) as i8 >> 1) as i32;
    if b & 0x80 == 0 {
        return Some(v);
    }
    for i in 1..MAX_LEN {
        let b = next()?;
        if i == MAX_LEN - 1 {
            return Some(v.wrapping_shl(7).wrapping_add(b as i32));
        }
        v = v.wrapping_shl(7).wrapping_add((b & 0x7F) as i32);
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    Some(v)
}

/// Encodes `value` as PerfView's writer does.
pub fn encode(value: i32, out: &mut Vec<u8>) {
    let fits = |bits: u32| {
        let lim = 1i64 << (bits - 1);
        (-lim..lim).contains(&(value as i64))
    };
    let len = match () {
        _ if fits(7) => 1,
        _ if fits(14) => 2,
        _ if fits(21) => 3,
        _ if fits(28) => 4,
        _ => 5,
    };
    for k in (1..len).rev() {
        let shift = 7 * k as u32;
        let group = if shift >= 32 {
            value >> 31
        } else {
            value >> shift
        };
        out.push(((group as u32 | 0x80) & 0xFF) as u8);
    }
    out.push((value & 0x7F) as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8]) -> Option<i32> {
        let mut it = bytes.iter().copied();
        decode(|| it.next())
    }

    fn enc(v: i32) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out);
        out
    }

    #[test]
    fn documented_examples() {
        // From the format reference: 5, -1, 64, -65, 200.
        assert_eq!(enc(5), [0x05]);
        assert_eq!(enc(-1), [0x7F]);
        assert_eq!(enc(64), [0x80, 0x40]);
        assert_eq!(enc(-65), [0xFF, 0x3F]);
        assert_eq!(enc(200), [0x81, 0x48]);
        assert_eq!(dec(&[0x05]), Some(5));
        assert_eq!(dec(&[0x7F]), Some(-1));
        assert_eq!(dec(&[0x80, 0x40]), Some(64));
        assert_eq!(dec(&[0xFF, 0x3F]), Some(-65));
        assert_eq!(dec(&[0x81, 0x48]), Some(200));
    }

    #[test]
    fn it_is_not_leb128() {
        // LEB128 would read 0x81 0x48 as 1 + (0x48 << 7).
        assert_ne!(dec(&[0x81, 0x48]), Some(1 + (0x48 << 7)));
    }

    #[test]
    fn round_trips_at_every_length_boundary() {
        let mut values = vec![0, 1, -1, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];
        for bits in [7u32, 14, 21, 28] {
            let lim = 1i64 << (bits - 1);
            for v in [lim - 1, lim, -lim, -lim - 1] {
                values.push(v as i32);
            }
        }
        let mut x = 0x1234_5678u32;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values.push(x as i32 >> (x % 32));
        }
        for v in values {
            let bytes = enc(v);
            assert!(bytes.len() <= MAX_LEN);
            assert_eq!(dec(&bytes), Some(v), "{v} as {bytes:02x?}");
        }
    }

    #[test]
    fn lengths_match_the_writer() {
        assert_eq!(enc(63).len(), 1);
        assert_eq!(enc(-64).len(), 1);
        assert_eq!(enc(64).len(), 2);
        assert_eq!(enc(8191).len(), 2);
        assert_eq!(enc(8192).len(), 3);
        assert_eq!(enc(1 << 27).len(), 5);
        assert_eq!(enc((1 << 27) - 1).len(), 4);
    }

    #[test]
    fn extremes_take_five_bytes() {
        assert_eq!(enc(i32::MIN), [0xF8, 0x80, 0x80, 0x80, 0x00]);
        assert_eq!(enc(i32::MAX), [0x87, 0xFF, 0xFF, 0xFF, 0x7F]);
        assert_eq!(enc(-(1 << 27) - 1).len(), 5);
        assert_eq!(enc(-(1 << 27)).len(), 4);
    }

    #[test]
    fn the_fifth_byte_is_added_whole_and_ends_the_value() {
        // Its bit 7 is data, not a continuation: 0x80 0x80 0x80 0x80 0xFF is 255.
        assert_eq!(dec(&[0x80, 0x80, 0x80, 0x80, 0xFF]), Some(255));
        let bytes = [0x80, 0x80, 0x80, 0x80, 0x81, 0x42];
        let mut used = 0;
        let v = decode(|| {
            used += 1;
            bytes.get(used - 1).copied()
        });
        assert_eq!((v, used), (Some(129), 5));
    }

    #[test]
    fn arithmetic_wraps_like_perfview() {
        // 31 << 28 overflows i32; PerfView's unchecked arithmetic wraps.
        let mut v: i64 = 31;
        for _ in 0..3 {
            v = (v << 7) + 0x7F;
        }
        v = (v << 7) + 0xFF;
        assert_eq!(dec(&[0x9F, 0xFF, 0xFF, 0xFF, 0xFF]), Some(v as i32));
        // -64 << 28 is -2^34, which wraps to 0.
        assert_eq!(dec(&[0xC0, 0x80, 0x80, 0x80, 0x00]), Some(0));
    }

    #[test]
    fn longer_forms_than_needed_are_read() {
        assert_eq!(dec(&[0x80, 0x05]), Some(5));
        assert_eq!(dec(&[0x80, 0x80, 0x80, 0x05]), Some(5));
        assert_eq!(dec(&[0xFF, 0xFF, 0x7F]), Some(-1));
        assert_eq!(dec(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), Some(-1));
        // ...but a whole fifth byte 0xFF adds 255, not 127.
        assert_eq!(dec(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), Some(127));
        // Only the last byte of a one-byte form matters: bit 6 is the sign.
        assert_eq!(dec(&[0x40]), Some(-64));
        assert_eq!(dec(&[0x3F]), Some(63));
    }

    #[test]
    fn truncated_input_is_none() {
        assert_eq!(dec(&[]), None);
        assert_eq!(dec(&[0x81]), None);
        assert_eq!(dec(&[0x81, 0x80, 0x80, 0x80]), None);
    }
}
