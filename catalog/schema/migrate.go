// Package schema is the catalog's ClickHouse schema: the versioned
// migrations (migrations/NNNN_name.sql, plain single-server SQL, embedded),
// Migrate, which applies them at every start, and the Dialect that renders
// them for a cluster (ON CLUSTER, replicated tables behind Distributed ones).
// docs/catalog.md describes the tables; docs/clustering.md the cluster DDL.
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one versioned step of the catalog's ClickHouse schema.
type Migration struct {
	Version    int
	Name       string
	Statements []string
}

// Migrations returns the schema steps in version order. Every statement is
// idempotent (IF NOT EXISTS), so a crash between running a step and
// recording it is harmless: the next start runs it again.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: name, Statements: splitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// splitStatements splits a migration file on the semicolons that end
// statements, dropping comment-only lines. Statements must not contain
// semicolons inside strings or comments.
func splitStatements(sql string) []string {
	var kept []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			kept = append(kept, line)
		}
	}
	var out []string
	for _, stmt := range strings.Split(strings.Join(kept, "\n"), ";") {
		if s := strings.TrimSpace(stmt); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// schemaMigrationsDDL creates the table that records applied versions.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations
		(version UInt32, name String, applied_at DateTime DEFAULT now())
		ENGINE = ReplacingMergeTree ORDER BY version`

// Migrate brings the catalog schema of a single ClickHouse server up to
// date and returns the versions it applied. It is safe to run at every
// start and from several processes.
func Migrate(ctx context.Context, conn driver.Conn) ([]int, error) {
	return MigrateWith(ctx, conn, Dialect{})
}

// MigrateWith is Migrate for a dialect: with d.Cluster set, every statement,
// schema_migrations included, is rendered for the cluster (ON CLUSTER,
// replicated local tables behind Distributed ones) before it runs. Every
// migration is rendered before the first one runs, so one the dialect
// cannot render changes nothing.
func MigrateWith(ctx context.Context, conn driver.Conn, d Dialect) ([]int, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	bookkeeping, err := d.Bookkeeping()
	if err != nil {
		return nil, err
	}
	migrations, err := Migrations()
	if err != nil {
		return nil, err
	}
	for i, m := range migrations {
		if migrations[i], err = d.Render(m); err != nil {
			return nil, err
		}
	}
	for _, stmt := range bookkeeping {
		if err := conn.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("catalog: create schema_migrations: %w", err)
		}
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("catalog: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		applied[int(v)] = true
	}
	rows.Close()
	insertCtx := ctx
	if d.Cluster != "" {
		// Insert through the Distributed table synchronously, so the record
		// is on its shard when Exec returns (not queued on this server).
		insertCtx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
	}
	var ran []int
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		for _, stmt := range m.Statements {
			if err := conn.Exec(ctx, stmt); err != nil {
				return ran, fmt.Errorf("catalog: migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		if err := conn.Exec(insertCtx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", uint32(m.Version), m.Name); err != nil {
			return ran, fmt.Errorf("catalog: record migration %04d: %w", m.Version, err)
		}
		ran = append(ran, m.Version)
	}
	return ran, nil
}

// SetInsertFsync makes ClickHouse fsync every inserted part (and its
// directory) before acknowledging the INSERT, or stops it. The consumer
// acks a message once its INSERT is acknowledged, so without fsync a power
// failure can lose acknowledged events; with it, each batch costs a few
// fsyncs. See docs/reliability.md.
func SetInsertFsync(ctx context.Context, conn driver.Conn, d Dialect, on bool) error {
	flag := 0
	if on {
		flag = 1
	}
	m, err := d.Render(Migration{Name: "fsync", Statements: []string{fmt.Sprintf(
		"ALTER TABLE events MODIFY SETTING fsync_after_insert = %d, fsync_part_directory = %d", flag, flag)}})
	if err != nil {
		return err
	}
	for _, stmt := range m.Statements {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("catalog: set fsync_after_insert: %w", err)
		}
	}
	return nil
}
