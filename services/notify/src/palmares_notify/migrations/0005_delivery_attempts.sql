-- Every delivery attempt of every email: when, and what the SMTP server said.
CREATE TABLE delivery_attempts (
    notification_id uuid        NOT NULL REFERENCES notifications (notification_id),
    attempt         int         NOT NULL,
    attempted_at    timestamptz NOT NULL DEFAULT now(),
    outcome         text        NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    detail          text,
    PRIMARY KEY (notification_id, attempt)
);
