package main

import (
	"bytes"
	"database/sql"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// counted is an attribute value that counts how often it is formatted.
type counted struct{ times *int }

func (c counted) LogValue() slog.Value {
	*c.times++
	return slog.StringValue("the whole document")
}

func TestAttributesOfWithAreFormattedOnlyForARecordThatIsLogged(t *testing.T) {
	var out bytes.Buffer
	times := 0
	logger := slog.New(lazyAttrs{inner: slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})})

	logger.With(slog.Any("args", counted{&times})).Debug(">>> INSERT")
	if times != 0 || out.Len() != 0 {
		t.Fatalf("a debug record at warn level formatted its attributes %d times, wrote %q", times, out.String())
	}

	logger.With("conn", "c1").WithGroup("sql").With(slog.Any("args", counted{&times})).Warn("slow", "ms", 900)
	line := out.String()
	if times != 1 {
		t.Fatalf("a logged record formatted its attribute %d times, want 1", times)
	}
	for _, want := range []string{"conn=c1", `sql.args="the whole document"`, "sql.ms=900", "msg=slow"} {
		if !strings.Contains(line, want) {
			t.Fatalf("%q lacks %q", line, want)
		}
	}
}

// pragmas opens a database as FerretDB opens one (its file in the directory, with the URL's parameters) and reads the
// named pragmas' values.
func pragmas(t *testing.T, names ...string) []int {
	t.Helper()
	u, err := url.Parse(sqliteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "test.sqlite"
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	values := make([]int, len(names))
	for i, name := range names {
		if err := db.QueryRow("PRAGMA " + name).Scan(&values[i]); err != nil {
			t.Fatal(err)
		}
	}
	return values
}

func TestTheStoresDatabasesKeepTheirTemporaryFilesInMemory(t *testing.T) {
	got := pragmas(t, "temp_store", "synchronous")
	if got[0] != 2 || got[1] != 1 { // MEMORY, NORMAL
		t.Fatalf("temp_store %d, synchronous %d; want 2 (memory), 1 (normal)", got[0], got[1])
	}
}

func TestTheStoresDatabasesKeepALargerPageCacheAndCheckpointLessOften(t *testing.T) {
	got := pragmas(t, "cache_size", "wal_autocheckpoint")
	if got[0] != -65536 || got[1] != 8000 { // 64 MB of pages; every 8,000 WAL pages
		t.Fatalf("cache_size %d, wal_autocheckpoint %d; want -65536, 8000", got[0], got[1])
	}
}
