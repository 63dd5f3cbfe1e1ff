//! Reader for CTranslate2's `model.bin` (binary version 6), as written by
//! ctranslate2's `specs/model_spec.py`: a header, named variables with shape, dtype
//! and raw little-endian data, then aliases.
//!
//! Every length is checked against the bytes actually present, so a truncated or
//! corrupt download is refused with the variable where it broke, never read past.

use std::collections::BTreeMap;

use super::ModelError;

/// Element types CTranslate2 stores (its `DataType` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Type {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Type {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }
}

/// One stored variable, borrowing its bytes from the file buffer.
#[derive(Debug, Clone)]
pub struct Variable<'a> {
    pub shape: Vec<usize>,
    pub dtype: Ct2Type,
    pub data: &'a [u8],
}

impl Variable<'_> {
    /// Values widened to `f32` (for float types).
    pub fn to_f32(&self) -> Result<Vec<f32>, ModelError> {
        let chunks = self.data.chunks_exact(self.dtype.size());
        Ok(match self.dtype {
            Ct2Type::F32 => chunks.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Ct2Type::F16 => chunks.map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Ct2Type::Bf16 => chunks.map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            other => return Err(ModelError::Format(format!("expected a float variable, found {other:?}"))),
        })
    }

    /// A scalar integer (such as `encoder/num_heads`).
    pub fn scalar_int(&self) -> Option<i64> {
        match (self.dtype, self.data) {
            (Ct2Type::I8, [a]) => Some(i64::from(*a as i8)),
            (Ct2Type::I16, [a, b]) => Some(i64::from(i16::from_le_bytes([*a, *b]))),
            (Ct2Type::I32, [a, b, c, d]) => Some(i64::from(i32::from_le_bytes([*a, *b, *c, *d]))),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed CTranslate2 model.
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub spec_name: String,
    pub variables: BTreeMap<String, Variable<'a>>,
    pub aliases: BTreeMap<String, String>,
}

impl<'a> Ct2Model<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ModelError> {
        let mut r = Cursor { bytes, pos: 0 };
        let version = r.u32("binary version")?;
        if version != 6 {
            return Err(ModelError::Format(format!(
                "CTranslate2 binary version {version} is not supported (expected 6)"
            )));
        }
        let spec_name = r.string("spec name")?;
        let _revision = r.u32("spec revision")?;
        let count = r.u32("variable count")? as usize;
        let mut variables = BTreeMap::new();
        for i in 0..count {
            let name = r.string(&format!("name of variable {i}"))?;
            let ndims = r.u8(&name)?;
            let shape =
                (0..ndims).map(|_| r.u32(&name).map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
            let dtype_id = r.u8(&name)?;
            let dtype = Ct2Type::from_id(dtype_id)
                .ok_or_else(|| ModelError::Format(format!("variable {name}: unknown dtype {dtype_id}")))?;
            let nbytes = r.u32(&name)? as usize;
            let elements: usize = shape.iter().product();
            if elements.max(1) * dtype.size() != nbytes {
                return Err(ModelError::Format(format!(
                    "variable {name}: {nbytes} bytes do not match shape {shape:?} of {dtype:?}"
                )));
            }
            let data = r.take(nbytes, &name)?;
            variables.insert(name, Variable { shape, dtype, data });
        }
        let mut aliases = BTreeMap::new();
        let n_aliases = r.u32("alias count")?;
        for _ in 0..n_aliases {
            let alias = r.string("alias")?;
            let target = r.string("alias target")?;
            aliases.insert(alias, target);
        }
        if r.pos != bytes.len() {
            return Err(ModelError::Format(format!(
                "{} unexpected bytes after the aliases",
                bytes.len() - r.pos
            )));
        }
        Ok(Self { spec_name, variables, aliases })
    }

    pub fn get(&self, name: &str) -> Result<&Variable<'a>, ModelError> {
        let resolved = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.variables.get(resolved).ok_or_else(|| ModelError::Format(format!("variable {name} is missing")))
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ModelError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len()).ok_or_else(|| {
            ModelError::Truncated(format!(
                "the file ends at byte {} inside {what} (needs {n} more bytes)",
                self.bytes.len()
            ))
        })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> Result<u8, ModelError> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &str) -> Result<u32, ModelError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A u16 length (including the trailing NUL), the bytes, the NUL.
    fn string(&mut self, what: &str) -> Result<String, ModelError> {
        let b = self.take(2, what)?;
        let len = usize::from(u16::from_le_bytes([b[0], b[1]]));
        let raw = self.take(len, what)?;
        let text = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(text.to_vec()).map_err(|_| ModelError::Format(format!("{what} is not UTF-8")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a model.bin the way ctranslate2 does, for tests.
    pub(crate) fn write_ct2(vars: &[(&str, &[usize], u8, Vec<u8>)], aliases: &[(&str, &str)]) -> Vec<u8> {
        fn string(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        let mut out = 6u32.to_le_bytes().to_vec();
        string(&mut out, "WhisperSpec");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(vars.len() as u32).to_le_bytes());
        for (name, shape, dtype, data) in vars {
            string(&mut out, name);
            out.push(shape.len() as u8);
            for d in *shape {
                out.extend_from_slice(&(*d as u32).to_le_bytes());
            }
            out.push(*dtype);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
        out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
        for (a, t) in aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    #[test]
    fn parses_variables_and_aliases() {
        let w: Vec<u8> = [1.0f32, -2.0].iter().flat_map(|v| half::f16::from_f32(*v).to_le_bytes()).collect();
        let bytes = write_ct2(
            &[("enc/w", &[2], 4, w), ("enc/num_heads", &[], 2, 8i16.to_le_bytes().to_vec())],
            &[("dec/proj", "enc/w")],
        );
        let m = Ct2Model::parse(&bytes).unwrap();
        assert_eq!(m.spec_name, "WhisperSpec");
        assert_eq!(m.get("dec/proj").unwrap().to_f32().unwrap(), vec![1.0, -2.0]);
        assert_eq!(m.get("enc/num_heads").unwrap().scalar_int(), Some(8));
    }

    #[test]
    fn truncation_is_refused_at_every_length() {
        let bytes = write_ct2(&[("a", &[4], 0, vec![0; 16])], &[]);
        for cut in 0..bytes.len() {
            let err = Ct2Model::parse(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, ModelError::Truncated(_) | ModelError::Format(_)), "cut {cut}: {err}");
        }
        assert!(Ct2Model::parse(&bytes).is_ok());
    }
}
