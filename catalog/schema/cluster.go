package schema

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Dialect says which ClickHouse deployment the migrations are rendered
// for. The zero value is a single server: statements run exactly as they
// are written in catalog/schema/migrations. With Cluster set, every statement is
// rewritten for that cluster (see docs/clustering.md):
//
//   - CREATE TABLE name (…) ENGINE = XMergeTree(args) … becomes
//     name_local ON CLUSTER with ENGINE = ReplicatedXMergeTree(path,
//     '{replica}', args), plus a Distributed table `name` over it, sharded
//     by a hash of the sorting key;
//   - CREATE [MATERIALIZED] VIEW gets ON CLUSTER (it reads the Distributed
//     tables, so it sees every shard);
//   - ALTER TABLE name … runs on name_local ON CLUSTER, and column changes
//     also on the Distributed table;
//   - DROP TABLE drops both tables, DROP VIEW the view, ON CLUSTER;
//   - INSERT and SELECT run unchanged (through the Distributed tables).
//
// Anything else is refused with an error naming the statement, so that a
// migration the transformer does not understand fails the golden-file
// test instead of producing wrong cluster DDL.
//
// Migration files stay plain single-node SQL; nothing in them is
// cluster-specific.
type Dialect struct {
	// Cluster is the name of the ClickHouse cluster (a <remote_servers>
	// entry on every server); "" means a single server.
	Cluster string
}

// LocalSuffix names the replicated table behind each Distributed table.
const LocalSuffix = "_local"

// ReplicaPath is the ZooKeeper/Keeper path of a replicated table; {shard}
// and {replica} are macros every server defines, {database} is expanded
// by ClickHouse at CREATE time.
const ReplicaPath = "/clickhouse/tables/{shard}/{database}/%s"

var plainIdentifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate checks the cluster name.
func (d Dialect) Validate() error {
	if d.Cluster != "" && !plainIdentifier.MatchString(d.Cluster) {
		return fmt.Errorf("catalog: cluster name %q must be a plain identifier (letters, digits, underscore)", d.Cluster)
	}
	return nil
}

// Render returns m with its statements rewritten for the dialect. For a
// single server it returns the statements unchanged.
func (d Dialect) Render(m Migration) (Migration, error) {
	out := Migration{Version: m.Version, Name: m.Name}
	if d.Cluster == "" {
		out.Statements = append([]string(nil), m.Statements...)
		return out, nil
	}
	if err := d.Validate(); err != nil {
		return Migration{}, err
	}
	for i, stmt := range m.Statements {
		rendered, err := d.renderStatement(stmt)
		if err != nil {
			return Migration{}, fmt.Errorf("catalog: migration %04d_%s, statement %d (%s): cannot render for cluster %s: %w",
				m.Version, m.Name, i+1, excerpt(stmt), d.Cluster, err)
		}
		out.Statements = append(out.Statements, rendered...)
	}
	return out, nil
}

// Bookkeeping returns the statements that create the schema_migrations
// table in this dialect.
func (d Dialect) Bookkeeping() ([]string, error) {
	m, err := d.Render(Migration{Name: "schema_migrations", Statements: []string{schemaMigrationsDDL}})
	return m.Statements, err
}

// excerpt is the start of a statement on one line, for error messages.
func excerpt(stmt string) string {
	s := strings.Join(strings.Fields(stmt), " ")
	if len(s) > 70 {
		s = s[:70] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// renderStatement rewrites one single-node statement into the cluster
// statements that replace it.
func (d Dialect) renderStatement(stmt string) ([]string, error) {
	toks, err := tokenize(stmt)
	if err != nil {
		return nil, err
	}
	sig := significant(toks)
	kw := func(i int, words ...string) bool {
		for j, w := range words {
			if i+j >= len(sig) || !sig[i+j].is(w) {
				return false
			}
		}
		return true
	}
	switch {
	case len(sig) == 0:
		return nil, errors.New("empty statement")
	case kw(0, "CREATE", "TABLE"):
		return d.createTable(stmt, toks, sig)
	case kw(0, "CREATE", "VIEW"), kw(0, "CREATE", "OR", "REPLACE", "VIEW"):
		return d.createView(stmt, sig, false)
	case kw(0, "CREATE", "MATERIALIZED", "VIEW"):
		return d.createView(stmt, sig, true)
	case kw(0, "ALTER", "TABLE"):
		return d.alterTable(stmt, toks, sig)
	case kw(0, "DROP", "TABLE"), kw(0, "DROP", "VIEW"):
		return d.drop(stmt, sig)
	case kw(0, "INSERT"), kw(0, "SELECT"), kw(0, "WITH"):
		// Reads and writes go through the Distributed tables as they are.
		return []string{stmt}, nil
	}
	return nil, errors.New("not supported in cluster mode (only CREATE TABLE, CREATE [MATERIALIZED] VIEW, ALTER TABLE, " +
		"DROP TABLE/VIEW, INSERT and SELECT are); extend catalog/schema/cluster.go")
}

// name reads the object name at sig[i], after an optional IF [NOT] EXISTS,
// and returns the name token and the index after it.
func (d Dialect) name(sig []token, i int) (token, int, error) {
	for _, w := range []string{"IF", "NOT", "EXISTS"} {
		if i < len(sig) && sig[i].is(w) {
			i++
		}
	}
	if i >= len(sig) {
		return token{}, i, errors.New("no object name")
	}
	name := sig[i]
	if name.kind != tokWord || !plainIdentifier.MatchString(name.text) {
		return token{}, i, fmt.Errorf("object name %s must be a plain identifier", name.text)
	}
	i++
	if i < len(sig) && sig[i].is(".") {
		return token{}, i, fmt.Errorf("%s is qualified with a database; migrations run in the connection's database and must not name one", name.text)
	}
	if i+1 < len(sig) && sig[i].is("ON") && sig[i+1].is("CLUSTER") {
		return token{}, i, errors.New("already has ON CLUSTER; migration files must stay single-node SQL")
	}
	return name, i, nil
}

type splice struct {
	start, end int
	text       string
}

// apply replaces byte ranges of s, which must not overlap.
func apply(s string, edits ...splice) string {
	sort.Slice(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	for _, e := range edits {
		s = s[:e.start] + e.text + s[e.end:]
	}
	return strings.TrimSpace(s)
}

// between returns the tokens of toks that lie within [start, end).
func between(toks []token, start, end int) []token {
	var out []token
	for _, t := range toks {
		if t.start >= start && t.end <= end {
			out = append(out, t)
		}
	}
	return out
}

// clause is a top-level clause of a CREATE TABLE after its column list.
type clause struct {
	keyword    string // ENGINE, ORDER BY, SETTINGS, …
	start      int    // byte offset of the keyword
	bodyStart  int    // byte offset after the keyword
	end        int    // byte offset of the next clause, or the statement's end
	body       []token
	bodySignif []token
}

var tableClauses = [][]string{{"ENGINE"}, {"PARTITION", "BY"}, {"ORDER", "BY"}, {"PRIMARY", "KEY"},
	{"SAMPLE", "BY"}, {"TTL"}, {"SETTINGS"}, {"COMMENT"}, {"AS"}, {"EMPTY"}}

func (d Dialect) createTable(stmt string, toks, sig []token) ([]string, error) {
	name, i, err := d.name(sig, 2)
	if err != nil {
		return nil, err
	}
	if i >= len(sig) || !sig[i].is("(") {
		return nil, errors.New("CREATE TABLE without a column list (… AS other_table, … AS SELECT) is not supported; list the columns")
	}
	closeCols := closing(sig, i)
	// Cut the rest of the statement into top-level clauses.
	var clauses []clause
	rest := sig[closeCols+1:]
	for j := 0; j < len(rest); j++ {
		for _, words := range tableClauses {
			match := j+len(words) <= len(rest)
			for k, w := range words {
				match = match && rest[j+k].depth == 0 && rest[j+k].is(w)
			}
			if match {
				if n := len(clauses); n > 0 {
					clauses[n-1].end = rest[j].start
				} else if j > 0 {
					return nil, fmt.Errorf("unexpected %q after the column list", rest[0].text)
				}
				clauses = append(clauses, clause{keyword: strings.Join(words, " "), start: rest[j].start,
					bodyStart: rest[j+len(words)-1].end})
				j += len(words) - 1
				break
			}
		}
	}
	if len(clauses) == 0 {
		return nil, errors.New("no ENGINE clause: the server's default engine cannot be made replicated; name a MergeTree engine")
	}
	clauses[len(clauses)-1].end = len(stmt)
	byName := map[string]*clause{}
	for k := range clauses {
		c := &clauses[k]
		c.body = between(toks, c.bodyStart, c.end)
		c.bodySignif = significant(c.body)
		if byName[c.keyword] != nil {
			return nil, fmt.Errorf("two %s clauses", c.keyword)
		}
		byName[c.keyword] = c
	}
	if byName["AS"] != nil || byName["EMPTY"] != nil {
		return nil, errors.New("CREATE TABLE … AS SELECT is not supported; create the table, then INSERT")
	}
	engine := byName["ENGINE"]
	if engine == nil {
		return nil, errors.New("no ENGINE clause: the server's default engine cannot be made replicated; name a MergeTree engine")
	}
	local := name.text + LocalSuffix
	edits := []splice{{name.start, name.end, local + " ON CLUSTER " + d.Cluster}}

	// ENGINE [=] XMergeTree[(args)]
	e := engine.bodySignif
	if len(e) > 0 && e[0].is("=") {
		e = e[1:]
	}
	if len(e) == 0 || e[0].kind != tokWord {
		return nil, errors.New("ENGINE clause names no engine")
	}
	engineName, args, engineEnd := e[0].text, "", e[0].end
	if len(e) > 1 {
		if !e[1].is("(") || closing(e, 1) != len(e)-1 {
			return nil, fmt.Errorf("cannot read the arguments of ENGINE %s", engineName)
		}
		args = strings.TrimSpace(stmt[e[1].end:e[len(e)-1].start])
		engineEnd = e[len(e)-1].end
	}
	switch {
	case strings.HasPrefix(engineName, "Replicated") || strings.HasPrefix(engineName, "Shared"):
		return nil, fmt.Errorf("ENGINE %s is already replicated; migration files must stay single-node SQL", engineName)
	case !strings.HasSuffix(engineName, "MergeTree"):
		return nil, fmt.Errorf("ENGINE %s is not of the MergeTree family; only MergeTree tables can be replicated and distributed", engineName)
	}
	replicated := fmt.Sprintf("ENGINE = Replicated%s('"+ReplicaPath+"', '{replica}'", engineName, local)
	if args != "" {
		replicated += ", " + args // e.g. ReplacingMergeTree's version column stays an argument
	}
	edits = append(edits, splice{engine.start, engineEnd, replicated + ")"})

	// Shard by the sorting key: every row that a ReplacingMergeTree (or
	// Summing, Aggregating, Collapsing…) would merge with another shares
	// the sorting key, so hashing the whole key sends all of them to the
	// same shard, where merges and FINAL collapse them exactly as on one
	// server. rand() would scatter duplicates across shards, where nothing
	// ever collapses them.
	keyClause := byName["ORDER BY"]
	if keyClause == nil {
		keyClause = byName["PRIMARY KEY"]
	}
	if keyClause == nil {
		return nil, errors.New("no ORDER BY: cannot derive a sharding key")
	}
	key, err := shardingKey(keyClause.body)
	if err != nil {
		return nil, err
	}

	// Replicated tables deduplicate inserted blocks by default: the hashes
	// of the last replicated_deduplication_window blocks (10000 on 26.x) are
	// kept in Keeper and shared by the replicas. non_replicated_* settings
	// configure the single-server equivalent, which has no effect on a
	// replicated table: drop them rather than carry a misleading setting.
	// (Translating the window would lower the server default.)
	if s := byName["SETTINGS"]; s != nil {
		var kept []string
		dropped := false
		for _, item := range splitTopLevel(s.body, ",") {
			is := significant(item)
			if len(is) > 0 && strings.HasPrefix(strings.ToLower(is[0].text), "non_replicated_") {
				dropped = true
				continue
			}
			kept = append(kept, compact(item))
		}
		if dropped {
			if len(kept) == 0 {
				edits = append(edits, splice{s.start, s.end, ""})
			} else {
				end := s.bodySignif[len(s.bodySignif)-1].end
				edits = append(edits, splice{s.start, end, "SETTINGS " + strings.Join(kept, ", ")})
			}
		}
	}

	distributed := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s ON CLUSTER %s AS %s\nENGINE = Distributed(%s, currentDatabase(), %s, %s)",
		name.text, d.Cluster, local, d.Cluster, local, key)
	if c := byName["COMMENT"]; c != nil {
		distributed += "\nCOMMENT " + compact(c.body)
	}
	return []string{apply(stmt, edits...), distributed}, nil
}

// shardingKey turns a sorting key into a hash of all its columns.
func shardingKey(body []token) (string, error) {
	s := significant(body)
	for _, t := range s {
		if t.is("ASC") || t.is("DESC") {
			return "", errors.New("ORDER BY with ASC/DESC: cannot derive a sharding key")
		}
	}
	var inner []token
	switch {
	case len(s) == 0:
		return "", errors.New("empty ORDER BY")
	case s[0].is("(") && closing(s, 0) == len(s)-1:
		inner = between(body, s[0].end, s[len(s)-1].start)
	case len(s) > 1 && s[0].is("tuple") && s[1].is("(") && closing(s, 1) == len(s)-1:
		inner = between(body, s[1].end, s[len(s)-1].start)
	default:
		inner = body
	}
	key := compact(inner)
	if key == "" {
		return "", errors.New("ORDER BY tuple() has no columns to shard by")
	}
	return "cityHash64(" + key + ")", nil
}

// splitTopLevel splits tokens at the separator where it is at depth 0.
func splitTopLevel(toks []token, sep string) [][]token {
	var out [][]token
	var cur []token
	for _, t := range toks {
		if t.depth == 0 && t.is(sep) {
			out = append(out, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	return append(out, cur)
}

func (d Dialect) createView(stmt string, sig []token, materialized bool) ([]string, error) {
	i := 2
	for !sig[i-1].is("VIEW") {
		i++
	}
	name, i, err := d.name(sig, i)
	if err != nil {
		return nil, err
	}
	if materialized {
		// A materialized view with an inner ENGINE would create a plain,
		// unreplicated table on every server.
		if i >= len(sig) || !sig[i].is("TO") {
			return nil, errors.New("a MATERIALIZED VIEW must write TO a table created by a CREATE TABLE migration (an inner ENGINE would not be replicated)")
		}
	}
	return []string{apply(stmt, splice{name.end, name.end, " ON CLUSTER " + d.Cluster})}, nil
}

// columnAlters are the ALTER commands that change a table's columns; they
// apply to the Distributed table too, whose columns were copied from the
// local table when it was created.
var columnAlters = map[string]bool{"ADD": true, "DROP": true, "MODIFY": true, "RENAME": true, "COMMENT": true}

func (d Dialect) alterTable(stmt string, toks, sig []token) ([]string, error) {
	name, i, err := d.name(sig, 2)
	if err != nil {
		return nil, err
	}
	if i >= len(sig) {
		return nil, errors.New("ALTER TABLE without a command")
	}
	local := apply(stmt, splice{name.start, name.end, name.text + LocalSuffix + " ON CLUSTER " + d.Cluster})
	var columns []string
	allDrops := true
	for _, cmd := range splitTopLevel(between(toks, sig[i].start, len(stmt)), ",") {
		c := significant(cmd)
		if len(c) < 2 {
			return nil, errors.New("cannot read an ALTER command")
		}
		verb, object := strings.ToUpper(c[0].text), strings.ToUpper(c[1].text)
		if verb == "MODIFY" && object == "QUERY" {
			return nil, errors.New("ALTER TABLE … MODIFY QUERY targets a view; not supported in cluster mode")
		}
		if columnAlters[verb] && object == "COLUMN" {
			columns = append(columns, strings.TrimSpace(stmt[c[0].start:c[len(c)-1].end]))
			allDrops = allDrops && verb == "DROP"
		}
	}
	if len(columns) == 0 {
		return []string{local}, nil
	}
	distributed := fmt.Sprintf("ALTER TABLE %s ON CLUSTER %s %s", name.text, d.Cluster, strings.Join(columns, ", "))
	if allDrops {
		// Stop reading a column before the shards lose it.
		return []string{distributed, local}, nil
	}
	// Shards have a new column before the Distributed table reads it.
	return []string{local, distributed}, nil
}

func (d Dialect) drop(stmt string, sig []token) ([]string, error) {
	name, _, err := d.name(sig, 2)
	if err != nil {
		return nil, err
	}
	onCluster := splice{name.end, name.end, " ON CLUSTER " + d.Cluster}
	if sig[1].is("VIEW") {
		return []string{apply(stmt, onCluster)}, nil
	}
	// The Distributed table first, then its local table (IF EXISTS: a DROP
	// TABLE may also name a view, which has none).
	local := "DROP TABLE IF EXISTS " + name.text + LocalSuffix + " ON CLUSTER " + d.Cluster + stmt[name.end:]
	return []string{apply(stmt, onCluster), strings.TrimSpace(local)}, nil
}
