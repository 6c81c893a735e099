-- The mentions the jury granted when it ruled on them (JuryDecided version 2):
-- NULL leaves the detected mentions as they are (palmares_label.final).
ALTER TABLE jury_decisions ADD COLUMN mentions jsonb;
