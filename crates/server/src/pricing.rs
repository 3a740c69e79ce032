//! What a ticket costs: its ticket type's cost, else the event's `ticket_price`. The price is
//! the server's, never the client's; a price that cannot be charged is an error, never 0.

use crate::store::TicketTypeRow;

/// Why no price could be set for the ticket asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("This event has no ticket types; leave ticket_type_id out.")]
    NoTypes,
    #[error("Choose a ticket type for this event.")]
    TypeRequired,
    #[error("That ticket type is not one of this event's.")]
    UnknownType,
    /// The catalog gives the event neither a price nor types (it is never listed so).
    #[error("the event has neither a ticket price nor ticket types")]
    NotPriced,
}

impl PriceError {
    /// Whether the buyer asked for something wrong (rather than the catalog being wrong).
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            PriceError::NoTypes | PriceError::TypeRequired | PriceError::UnknownType
        )
    }
}

/// The ticket type (if any) and cost in minor units of a ticket of an event with
/// `ticket_price` and `types`, when the buyer asks for `requested`.
pub fn ticket_price(
    ticket_price: Option<i64>,
    types: &[TicketTypeRow],
    requested: Option<i64>,
) -> Result<(Option<i64>, i64), PriceError> {
    match (requested, types.is_empty()) {
        (None, true) => ticket_price
            .map(|price| (None, price))
            .ok_or(PriceError::NotPriced),
        (Some(_), true) => Err(PriceError::NoTypes),
        (None, false) => Err(PriceError::TypeRequired),
        (Some(type_id), false) => {
            let ticket_type = types
                .iter()
                .find(|t| t.id == type_id)
                .ok_or(PriceError::UnknownType)?;
            Ok((Some(type_id), ticket_type.cost))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types() -> Vec<TicketTypeRow> {
        vec![
            TicketTypeRow {
                id: 1,
                name: "Standard".into(),
                cost: 1450,
            },
            TicketTypeRow {
                id: 2,
                name: "Concession".into(),
                cost: 900,
            },
        ]
    }

    #[test]
    fn a_type_costs_its_cost_and_an_untyped_event_its_price() {
        assert_eq!(ticket_price(None, &types(), Some(2)), Ok((Some(2), 900)));
        assert_eq!(ticket_price(Some(1200), &[], None), Ok((None, 1200)));
        assert_eq!(
            ticket_price(Some(0), &[], None),
            Ok((None, 0)),
            "free shows"
        );
    }

    #[test]
    fn the_buyer_is_told_what_is_wrong_with_the_request() {
        assert_eq!(
            ticket_price(Some(1200), &[], Some(1)),
            Err(PriceError::NoTypes)
        );
        assert_eq!(
            ticket_price(None, &types(), None),
            Err(PriceError::TypeRequired)
        );
        assert_eq!(
            ticket_price(None, &types(), Some(9)),
            Err(PriceError::UnknownType)
        );
        assert!(PriceError::UnknownType.is_request_error());
    }

    #[test]
    fn an_unpriced_event_is_an_error_not_free() {
        assert_eq!(ticket_price(None, &[], None), Err(PriceError::NotPriced));
        assert!(!PriceError::NotPriced.is_request_error());
    }
}
