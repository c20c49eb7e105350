// Command newsmon-ferretdb runs FerretDB (an open-source server that speaks
// MongoDB's wire protocol; it is NOT MongoDB) with its SQLite backend, for
// newsmon's tests. It embeds github.com/FerretDB/FerretDB/ferretdb, because
// the upstream cmd/ferretdb binary panics when built with `go install` (its
// build/version/version.txt is absent from the module).
//
// Usage:
//
//	newsmon-ferretdb -listen 127.0.0.1:0 -dir /tmp/data
//
// Once the TCP listener is bound it prints one line, "ready HOST:PORT", to
// stdout (port 0 picks a free port). It logs to stderr at -log-level (default
// error) and exits 0 on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (port 0 picks a free port)")
	dir := flag.String("dir", "", "data directory for the SQLite files (created if missing)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "newsmon-ferretdb:", err)
		os.Exit(1)
	}
}

func run(listen, dir, logLevel string) error {
	if dir == "" {
		return fmt.Errorf("-dir is required")
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("bad -log-level %q: %w", logLevel, err)
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}

	if err = os.MkdirAll(abs, 0o755); err != nil {
		return err
	}

	// FerretDB wants a "file:" URI naming an existing directory, ending in "/".
	// Building it with net/url escapes characters such as '?', '#' or '%'.
	sqliteURL := (&url.URL{Scheme: "file", Path: strings.TrimSuffix(abs, "/") + "/"}).String()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// ferretdb.New binds the listener before returning, so the bound address
	// is known from here on.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		return err
	}

	if _, _, err = net.SplitHostPort(u.Host); err != nil {
		return fmt.Errorf("unexpected listener address %q: %w", u.Host, err)
	}

	fmt.Printf("ready %s\n", u.Host)
	os.Stdout.Sync()

	return f.Run(ctx)
}
