-- Searching findings (the vulnerabilities page's ?q=, a substring of a CVE,
-- package or advisory) reads only the grouping index: it gains the searched
-- columns and mark_expires_at, so the search no longer looks up each of a
-- workspace's findings in the table (1.3 s at 235,738 findings). Keep in
-- step with the postgres migration of the same number.

-- +goose Up
DROP INDEX findings_workspace_status;
CREATE INDEX findings_workspace_status ON findings
    (workspace_id, status, vuln_id, mark, severity, cvss_score, host_id, first_seen_at, fixed, mark_expires_at, package, advisory_id);

-- +goose Down
DROP INDEX findings_workspace_status;
CREATE INDEX findings_workspace_status ON findings
    (workspace_id, status, vuln_id, mark, severity, cvss_score, host_id, first_seen_at, fixed);
