CREATE TABLE logs (id INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, created_at TEXT NOT NULL);
-- sample data: 300 log lines and 250 users (a recursive CTE, so the file stays short)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
INSERT INTO logs (timestamp, level, message)
  SELECT printf('2026-11-27T%02d:%02d:00Z', i / 60, i % 60), CASE WHEN i % 10 = 0 THEN 'ERROR' ELSE 'INFO' END,
         'event ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
INSERT INTO users (name, email, created_at)
  SELECT 'User ' || i, 'user' || i || '@example.com', printf('2026-01-%02d', 1 + i % 28) FROM n;
