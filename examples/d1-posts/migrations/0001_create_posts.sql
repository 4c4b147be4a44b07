-- The posts table the seed's Worker reads and writes.
CREATE TABLE posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  author TEXT NOT NULL DEFAULT 'Anonymous',
  created_at TEXT NOT NULL
);
CREATE INDEX posts_created_at ON posts(created_at);
