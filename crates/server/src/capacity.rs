//! The sold-out rule: what an event's capacity leaves for sale, and how many of a payment's
//! tickets an event that sold out meanwhile cannot hold. Sold counts reserved, confirmed and
//! checked-in tickets; pending ones (in carts) never count.

/// The sold / available / sold-out figures of the contract, from capacity and sold.
pub fn availability(capacity: Option<i64>, sold: i64) -> (Option<u32>, u32, Option<u32>, bool) {
    let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
    let sold = clamp(sold);
    let capacity = capacity.map(clamp);
    let available = capacity.map(|cap| cap.saturating_sub(sold));
    let sold_out = capacity.is_some_and(|cap| sold >= cap);
    (capacity, sold, available, sold_out)
}

/// How many tickets a payment just confirmed must be cancelled (and refunded) because the
/// event sold out before it completed: the confirmed and checked-in tickets beyond capacity.
pub fn oversold(capacity: i64, confirmed: i64) -> i64 {
    (confirmed - capacity).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_follows_the_contract() {
        assert_eq!(availability(None, 5), (None, 5, None, false));
        assert_eq!(availability(Some(10), 8), (Some(10), 8, Some(2), false));
        assert_eq!(availability(Some(10), 10), (Some(10), 10, Some(0), true));
        // Oversold (two payments raced): available never goes negative.
        assert_eq!(availability(Some(10), 12), (Some(10), 12, Some(0), true));
        assert_eq!(availability(Some(0), 0), (Some(0), 0, Some(0), true));
    }

    #[test]
    fn only_what_is_confirmed_beyond_capacity_is_oversold() {
        assert_eq!(oversold(10, 9), 0);
        assert_eq!(oversold(10, 10), 0);
        assert_eq!(oversold(10, 12), 2);
        assert_eq!(oversold(0, 3), 3);
    }
}
