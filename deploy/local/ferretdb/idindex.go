package main

// FerretDB 1.24's SQLite backend pushes a `{_id: <string>}` filter down as
//   WHERE _ferretdb_sjson->'$._id' = ?
// but indexes `_id` as (_ferretdb_sjson->"_id"). SQLite uses an expression index only for the very
// same expression, so every `_id` lookup scans the table until it finds the document: a hit on a
// recent document or a miss costs time proportional to the collection (measured: 30 ms at 5,000
// documents, 1 ms with the index below). MongoDB always has its `_id` index; so that the local
// stand-in behaves like it, idIndexer adds the index the pushed-down query can use to each collection
// table once it holds minIndexedRows documents. Creating an index changes the database schema, and a
// query FerretDB runs on that database at the same moment can fail once with "database schema has
// changed"; below the threshold a scan costs about as much as the index would save, so small tables
// (a test's, a minute's timers) are left alone and each large one is indexed once.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB itself uses
)

const minIndexedRows = 1000

type idIndexer struct {
	dir    string
	logger *slog.Logger
	seen   map[string]time.Time // database file -> modification time already handled
}

func (x *idIndexer) run(ctx context.Context, every time.Duration) {
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		x.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// pass indexes the tables of every database file written since the last pass (WAL file included).
func (x *idIndexer) pass(ctx context.Context) {
	files, _ := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	for _, file := range files {
		changed := modified(file)
		if wal := modified(file + "-wal"); wal.After(changed) {
			changed = wal
		}
		if seen, ok := x.seen[file]; ok && !changed.After(seen) {
			continue
		}
		if err := indexTables(ctx, file); err != nil {
			x.logger.Debug("id index pass failed", "file", file, "error", err)
			continue // a dropped database, or busy: the next pass tries again
		}
		x.seen[file] = changed
	}
}

func modified(path string) time.Time {
	info, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return info.ModTime()
}

func indexTables(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(2000)&mode=rw")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT t.name FROM sqlite_master t
		WHERE t.type = 'table' AND t.name NOT LIKE '\_ferretdb\_%' ESCAPE '\'
		AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || '_xueji_id')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		if strings.ContainsRune(table, '"') {
			continue
		}
		var rows sql.NullInt64 // max(rowid) reads one end of the table's b-tree, not the table
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT max(rowid) FROM "%s"`, table)).Scan(&rows); err != nil {
			return err
		}
		if rows.Int64 < minIndexedRows {
			continue
		}
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS "%s_xueji_id" ON "%s" (_ferretdb_sjson->'$._id')`, table, table)
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
