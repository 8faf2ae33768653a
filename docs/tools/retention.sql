-- Delete Tocsin's old data: the same SQL for SQLite and PostgreSQL, in one transaction.
-- docs/operations.md ("Data retention") explains what it removes and what it keeps. Back up first.
--
-- Edit the two cut-offs below (every line marked CUT-OFF; UTC, written as shown), then run:
--   sqlite3 -bail -cmd "PRAGMA foreign_keys = ON" /data/tocsin.db < docs/tools/retention.sql
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f docs/tools/retention.sql
--
-- INCIDENTS: incidents resolved before '2024-01-01 00:00:00+00', and pages (with no incident) started
--            before it, go, unless an open follow-up or a firing alert still needs them.
-- HOUSEKEEPING: Events API delivery IDs, App Home viewers and the API's idempotency keys older than
--            '2025-01-01 00:00:00+00' go; pick a date at least 30 days ago (Slack retries an event for minutes;
--            App Home is refreshed for 30 days; an Idempotency-Key needs to be remembered for 24 hours).

BEGIN;

-- Incidents to delete: resolved (or postmortem done) before the cut-off, set up completely, with no open
-- follow-up and no alert still firing for them or their pages.
CREATE TEMP TABLE old_incidents AS
SELECT i.id FROM incidents i
WHERE i.status IN ('resolved', 'closed')
  AND i.resolved_at < '2024-01-01 00:00:00+00'                                           -- CUT-OFF
  AND i.setup_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM follow_ups f WHERE f.incident_id = i.id AND f.done_at IS NULL)
  AND NOT EXISTS (
    SELECT 1 FROM alert_groups g JOIN alerts a ON a.group_id = g.id
    WHERE a.firing
      AND (g.incident_id = i.id OR g.page_id IN (SELECT p.id FROM pages p WHERE p.incident_id = i.id))
  );

-- Pages to delete: those of the incidents above, and finished pages without an incident (an alert that
-- paged without declaring) started before the cut-off whose alerts are all resolved.
CREATE TEMP TABLE old_pages AS
SELECT p.id FROM pages p WHERE p.incident_id IN (SELECT id FROM old_incidents)
UNION
SELECT p.id FROM pages p
WHERE p.incident_id IS NULL
  AND p.created_at < '2024-01-01 00:00:00+00'                                            -- CUT-OFF
  AND p.next_step_at IS NULL
  AND p.status <> 'triggered'
  AND NOT EXISTS (
    SELECT 1 FROM alert_groups g JOIN alerts a ON a.group_id = g.id WHERE g.page_id = p.id AND a.firing
  );

-- Alert groups to delete: those that point only at deleted incidents and pages (or at nothing, when
-- older than the cut-off), with no alert firing. A firing group is kept: Alertmanager sends it again
-- every repeat_interval, and a group Tocsin had forgotten would page anew.
CREATE TEMP TABLE old_groups AS
SELECT g.id FROM alert_groups g
WHERE (g.incident_id IS NULL OR g.incident_id IN (SELECT id FROM old_incidents))
  AND (g.page_id IS NULL OR g.page_id IN (SELECT id FROM old_pages))
  AND (g.incident_id IS NOT NULL OR g.page_id IS NOT NULL OR g.created_at < '2024-01-01 00:00:00+00') -- CUT-OFF
  AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.group_id = g.id AND a.firing);

DELETE FROM alerts WHERE group_id IN (SELECT id FROM old_groups);
DELETE FROM alert_groups WHERE id IN (SELECT id FROM old_groups);
DELETE FROM page_notifications WHERE page_id IN (SELECT id FROM old_pages);
DELETE FROM pages WHERE id IN (SELECT id FROM old_pages);
-- DMs that gathered pages in a storm, once no page's DM refers to them and they are older than the cut-off.
DELETE FROM page_digests
WHERE last_added_at < '2024-01-01 00:00:00+00'                                          -- CUT-OFF
  AND NOT EXISTS (SELECT 1 FROM page_notifications n WHERE n.digest_id = page_digests.id);
-- The event log's entries about what is deleted, and any of their deliveries still waiting.
CREATE TEMP TABLE old_events AS
SELECT seq FROM events
WHERE incident_id IN (SELECT id FROM old_incidents)
   OR (incident_id IS NULL AND page_id IN (SELECT id FROM old_pages))
   OR (incident_id IS NULL AND page_id IS NULL AND alert_group_id IN (SELECT id FROM old_groups));
DELETE FROM event_deliveries WHERE event_seq IN (SELECT seq FROM old_events);
DELETE FROM events WHERE seq IN (SELECT seq FROM old_events);
DROP TABLE old_events;
DELETE FROM message_captures WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM timeline_events WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM role_assignments WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM runbook_ticks WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM runbook_posts WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM follow_up_issues
WHERE follow_up_id IN (SELECT id FROM follow_ups WHERE incident_id IN (SELECT id FROM old_incidents));
DELETE FROM follow_ups WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM statuspage_incidents WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM public_updates WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM public_incidents WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM postmortems WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM outbox WHERE incident_id IN (SELECT id FROM old_incidents);
DELETE FROM incidents WHERE id IN (SELECT id FROM old_incidents);
-- workspace_counters is left alone, so incident numbers are never given again.

DELETE FROM processed_events WHERE received_at < '2025-01-01 00:00:00+00';             -- CUT-OFF
DELETE FROM home_viewers WHERE opened_at < '2025-01-01 00:00:00+00';                   -- CUT-OFF
DELETE FROM api_idempotency_keys WHERE created_at < '2025-01-01 00:00:00+00';          -- CUT-OFF
DELETE FROM tracker_deliveries WHERE received_at < '2025-01-01 00:00:00+00';          -- CUT-OFF

DROP TABLE old_groups;
DROP TABLE old_pages;
DROP TABLE old_incidents;

COMMIT;
