-- Why an enrolment ended early (abandon, end of the work contract, health, other), for
-- Qualiopi's drop-out figures; a transfer leaves it empty.
ALTER TABLE enrolments ADD COLUMN end_reason TEXT;
ALTER TABLE enrolments ADD COLUMN end_note TEXT;
