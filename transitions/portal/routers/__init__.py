"""One router per audience: `public` (no link), `territory`, `charter` (any of its three parties),
`cerdd`, `consultancy`, `jury`."""
