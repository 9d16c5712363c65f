package main

// FerretDB 1.24's SQLite backend pushes a `{_id: <string>}` filter down as
//   WHERE _ferretdb_sjson->'$._id' = ?
// but indexes `_id` as (_ferretdb_sjson->"_id"). SQLite uses an expression index only for the very
// same expression, so every `_id` lookup scans the table until it finds the document: a hit on a
// recent document or a miss costs time proportional to the collection (measured: 30 ms at 5,000
// documents, 1 ms with the index below). MongoDB always has its `_id` index; so that the local
// stand-in behaves like it, idIndexer gives each collection table, once it holds minIndexedRows
// documents, the index the pushed-down query can use, in place of FerretDB's (swapIDIndex). Creating
// an index changes the database schema, and a query FerretDB runs on that database at the same moment
// can fail once with "database schema has changed"; below the threshold a scan costs about as much
// as the index would save, so small tables (a test's, a minute's timers) are left alone and each large
// one is changed once.

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
		AND NOT EXISTS (SELECT 1 FROM sqlite_master i WHERE i.type = 'index' AND i.name = t.name || '__id_'
			AND i.sql LIKE '%''$._id''%')`)
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
		if err := swapIDIndex(ctx, db, table); err != nil {
			return err
		}
	}
	return nil
}

// swapIDIndex replaces FerretDB's unique `_id` index of `table` by a unique index on the expression its pushdown
// queries, under FerretDB's own index name, in one transaction: one `_id` index per table, as MongoDB has, that both
// refuses a second document with the same `_id` (FerretDB reports any unique constraint failure of an insert as a
// duplicate `_id`) and serves the lookups. Two indexes on the same key cost every insert a second JSON extraction
// and a second b-tree insertion at a random page (a 30,000-student import: 0.50-0.58 ms of the store's CPU per student
// with both, 0.42-0.43 with one). The index an earlier version of this program added beside FerretDB's (`_xueji_id`)
// goes too.
func swapIDIndex(ctx context.Context, db *sql.DB, table string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, q := range []string{
		`DROP INDEX IF EXISTS "%[1]s_xueji_id"`,
		`DROP INDEX IF EXISTS "%[1]s__id_"`,
		`CREATE UNIQUE INDEX "%[1]s__id_" ON "%[1]s" (_ferretdb_sjson->'$._id')`,
	} {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(q, table)); err != nil {
			return err
		}
	}
	return tx.Commit()
}
