//! QAPI lists as [`heapless::Vec<T, N>`]: at most `N` elements, decoded in
//! place one element at a time. An element that fails names its index in
//! the error path (`list[2]`); an element past `N` is
//! [`DecodeErrorKind::TooManyElements`], never dropped.

use super::{Decode, DecodeError, DecodeErrorKind, Mode};
use crate::json::{Encode, Json, JsonWriter, Kind, WriteError};

impl<T: Decode + Default, const N: usize> Decode for heapless::Vec<T, N> {
    fn decode_into<'a>(&mut self, v: Json<'a>, mode: Mode) -> Result<(), DecodeError<'a>> {
        if v.kind() != Kind::Array {
            return Err(DecodeError::new(DecodeErrorKind::WrongType("array")).with_value(v));
        }
        self.clear();
        for (index, element) in v.elements().enumerate() {
            if self.push(T::default()).is_err() {
                return Err(
                    DecodeError::new(DecodeErrorKind::TooManyElements { capacity: N })
                        .with_value(v),
                );
            }
            if let Some(slot) = self.last_mut() {
                slot.decode_into(element, mode)
                    .map_err(|e| e.in_element(index))?;
            }
        }
        Ok(())
    }
}

impl<T: Encode, const N: usize> Encode for heapless::Vec<T, N> {
    fn encode(&self, w: &mut JsonWriter<'_>) -> Result<(), WriteError> {
        w.begin_array()?;
        for element in self.iter() {
            element.encode(w)?;
        }
        w.end_array()
    }
}
