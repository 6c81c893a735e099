-- Inbox: (consumer, event_id) recorded in the same transaction as the state
-- change an event causes; a redelivered event is then a no-op. `redeliveries`
-- counts the duplicates absorbed (reported by the reliability suite).
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    redeliveries int         NOT NULL DEFAULT 0,
    PRIMARY KEY (consumer, event_id)
);

-- Outbox: events written in the same transaction as the state that caused
-- them; the relay publishes rows in id order and deletes them once Kafka acked.
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    event_id   uuid        NOT NULL,
    topic      text        NOT NULL,
    key        bytea,
    value      bytea       NOT NULL,
    headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
