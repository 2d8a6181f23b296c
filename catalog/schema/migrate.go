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
	"slices"
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
	migrations, err := prepare(ctx, conn, d)
	if err != nil {
		return nil, err
	}
	applied, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}
	var ran []int
	for _, m := range migrations {
		if applied[m.Version] {
			continue
		}
		if err := execAll(ctx, conn, m, m.Statements); err != nil {
			return ran, err
		}
		if err := record(ctx, conn, d, m); err != nil {
			return ran, err
		}
		ran = append(ran, m.Version)
	}
	return ran, nil
}

// MigrateServers migrates every server of a cluster without Keeper
// (d.Unreplicated), where no DDL queue carries the statements from one
// server to the others: each server gets the local tables, the Distributed
// tables and the views, and records its own versions. It goes one
// migration at a time across all servers: a migration's schema statements
// run on every server that lacks it, and only then its data statements
// (INSERT … SELECT), once, on the first of those servers — they write
// through Distributed tables, which need the local tables on every shard,
// and running them once per server would write their rows once per server.
// It returns the versions applied to any server.
func MigrateServers(ctx context.Context, servers []driver.Conn, d Dialect) ([]int, error) {
	applied := make([]map[int]bool, len(servers))
	var migrations []Migration
	for i, conn := range servers {
		var err error
		if migrations, err = prepare(ctx, conn, d); err != nil {
			return nil, fmt.Errorf("catalog: server %d of %d: %w", i+1, len(servers), err)
		}
		if applied[i], err = appliedVersions(ctx, conn); err != nil {
			return nil, fmt.Errorf("catalog: server %d of %d: %w", i+1, len(servers), err)
		}
	}
	var ran []int
	for _, m := range migrations {
		var lacking []int
		for i := range servers {
			if !applied[i][m.Version] {
				lacking = append(lacking, i)
			}
		}
		if len(lacking) == 0 {
			continue
		}
		schemaStmts, dataStmts := splitData(m.Statements)
		for _, i := range lacking {
			if err := execAll(ctx, servers[i], m, schemaStmts); err != nil {
				return ran, fmt.Errorf("catalog: server %d of %d: %w", i+1, len(servers), err)
			}
		}
		if err := execAll(ctx, servers[lacking[0]], m, dataStmts); err != nil {
			return ran, fmt.Errorf("catalog: server %d of %d: %w", lacking[0]+1, len(servers), err)
		}
		for _, i := range lacking {
			if err := record(ctx, servers[i], d, m); err != nil {
				return ran, fmt.Errorf("catalog: server %d of %d: %w", i+1, len(servers), err)
			}
		}
		ran = append(ran, m.Version)
	}
	return ran, nil
}

// prepare renders every migration for d and creates schema_migrations.
func prepare(ctx context.Context, conn driver.Conn, d Dialect) ([]Migration, error) {
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
	return migrations, nil
}

// appliedVersions reads the versions schema_migrations records.
func appliedVersions(ctx context.Context, conn driver.Conn) (map[int]bool, error) {
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("catalog: read schema_migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[int(v)] = true
	}
	return applied, rows.Err()
}

// execAll runs statements of migration m in order.
func execAll(ctx context.Context, conn driver.Conn, m Migration, stmts []string) error {
	for _, stmt := range stmts {
		if err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("catalog: migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// record notes in schema_migrations that m is applied.
func record(ctx context.Context, conn driver.Conn, d Dialect, m Migration) error {
	if d.Cluster != "" && !d.Unreplicated {
		// Insert through the Distributed table synchronously, so the record
		// is on its shard when Exec returns (not queued on this server).
		ctx = ch.Context(ctx, ch.WithSettings(ch.Settings{"insert_distributed_sync": 1}))
	}
	if err := conn.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", uint32(m.Version), m.Name); err != nil {
		return fmt.Errorf("catalog: record migration %04d: %w", m.Version, err)
	}
	return nil
}

// splitData separates a migration's data statements (INSERT) from its
// schema statements, keeping the order within each.
func splitData(stmts []string) (schemaStmts, dataStmts []string) {
	for _, stmt := range stmts {
		if f := strings.Fields(stmt); len(f) > 0 && strings.EqualFold(f[0], "INSERT") {
			dataStmts = append(dataStmts, stmt)
		} else {
			schemaStmts = append(schemaStmts, stmt)
		}
	}
	return schemaStmts, dataStmts
}

// insertedTables are the tables of the catalog that INSERTs write.
var insertedTables = []string{"events", "rollups", "rollup_arrivals", "rollup_folded", "rollup_to_date",
	"retention_rollups", "hourly_rollups",
	"subject_refs", "subject_rights", "subject_holdings", "subject_audit", "traffic", "alerts"}

// SetInsertFsync makes ClickHouse fsync every inserted part (and its
// directory) before acknowledging the INSERT, or stops it. The consumer
// acks a message once its INSERT is acknowledged, so without fsync a power
// failure can lose acknowledged events; with it, each batch costs a few
// fsyncs. Every table an INSERT writes, directly or through a view, gets
// the same setting: a raw event that survives a power failure while the
// count marking its day dirty does not would be missing from the rollups;
// a person's reference acked but lost would be missing from an erasure's
// scope (its copies in subject_rights and subject_holdings are the
// exception: they are written again from subject_refs at start, see
// RepairSubjectCopies); a lookup answered but lost from the audit trail would be one
// nobody can account for; a traffic aggregate, once written, should not be
// the one thing a power failure takes. See docs/reliability.md.
func SetInsertFsync(ctx context.Context, conn driver.Conn, d Dialect, on bool) error {
	flag := 0
	if on {
		flag = 1
	}
	var stmts []string
	for _, table := range insertedTables {
		f := flag
		if slices.Contains(subjectCopies, table) {
			f = 0 // rebuilt from subject_refs instead (RepairSubjectCopies)
		}
		stmts = append(stmts, fmt.Sprintf(
			"ALTER TABLE %s MODIFY SETTING fsync_after_insert = %d, fsync_part_directory = %d", table, f, f))
	}
	m, err := d.Render(Migration{Name: "fsync", Statements: stmts})
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
