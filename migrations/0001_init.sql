-- placeholder, replaced by the events work
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, at INTEGER NOT NULL);
