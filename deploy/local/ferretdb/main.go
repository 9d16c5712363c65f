// Command ferretdb runs an embedded FerretDB 1.x (SQLite backend) on loopback for the local stack.
//
// It prints "READY <mongodb-uri>" on stdout once the listener accepts connections and stops
// cleanly on SIGINT/SIGTERM. Flags: -listen (host:port), -data (an existing or new directory).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	data := flag.String("data", ".local/ferretdb", "directory for the SQLite databases")
	flag.Parse()

	dir, err := filepath.Abs(*data)
	if err != nil {
		fail("bad -data %q: %v", *data, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail("cannot create data directory %s: %v", dir, err)
	}

	// FerretDB logs every SQL statement with its arguments (the whole document) at debug level through Logger.With,
	// and slog's text handler formats a With's attributes at once, whatever the level: 13% of the store's CPU in a
	// bulk import went to formatting documents nobody reads. lazyAttrs formats them only for a record it logs.
	logger := slog.New(lazyAttrs{inner: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
	// The store's live heap is small next to what it allocates per document (decoding, JSON, SQLite's buffers):
	// collected at four times its live size instead of twice, the collector's share of its CPU falls (about 15%).
	debug.SetGCPercent(300)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: sqliteURL(dir),
		Logger:    logger,
	})
	if err != nil {
		fail("cannot configure FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	indexer := &idIndexer{dir: dir, logger: logger, seen: map[string]time.Time{}}
	go indexer.run(ctx, 300*time.Millisecond)

	fmt.Printf("READY %s\n", f.MongoDBURI())

	if err := <-done; err != nil && ctx.Err() == nil {
		fail("FerretDB stopped: %v", err)
	}
}

// sqliteURL opens every database of `dir` as the local store wants it.
//
// WAL with synchronous=NORMAL: a commit no longer waits for fsync, only checkpoints do. The database stays
// consistent after any crash; an OS crash or power loss may lose the last transactions, which a local
// development and test store can afford (measured: insert_one 0.64 -> 0.35 ms, 8 concurrent 0.51 -> 0.19).
//
// temp_store(memory): the statement journal SQLite keeps while a many-document insert runs went to a temporary
// file, a write system call per page (5% of the store's CPU in a bulk import); it is held in memory.
//
// A class's documents land at random places of each collection's `_id` index (ids are UUIDs and ID numbers), so a
// 500-document insert dirties hundreds of index pages, each written to the WAL at its commit and again at the next
// checkpoint: a 30,000-student import wrote 1.41 GB for 150 MB of documents. cache_size(-65536): up to 64 MB of pages
// a connection keeps (2 MB by default; reads of pages it had dropped: 271,000 -> 194,000 system calls in that import).
// wal_autocheckpoint(8000): a checkpoint every 32 MB of WAL instead of 4, so a page dirtied by many commits between
// two checkpoints is copied back once (writes: 553,000 -> 492,000 system calls, 1.41 -> 1.16 GB). Both only grow
// with a database that large; a test's stays small.
func sqliteURL(dir string) string {
	return "file:" + dir + "/?_pragma=busy_timeout(10000)&_pragma=synchronous(normal)&_pragma=temp_store(memory)" +
		"&_pragma=cache_size(-65536)&_pragma=wal_autocheckpoint(8000)"
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
