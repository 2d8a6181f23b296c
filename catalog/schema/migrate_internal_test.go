package schema

import (
	"strings"
	"testing"
)

func TestSplitDataKeepsOrderWithinEachKind(t *testing.T) {
	schemaStmts, dataStmts := splitData([]string{
		"CREATE TABLE a (x UInt8) ENGINE = MergeTree ORDER BY x",
		"INSERT INTO a SELECT 1",
		"ALTER TABLE a ADD COLUMN y UInt8",
		"insert into a (x) SELECT 2",
	})
	if len(schemaStmts) != 2 || !strings.HasPrefix(schemaStmts[1], "ALTER") {
		t.Errorf("schema statements: %q", schemaStmts)
	}
	if len(dataStmts) != 2 || !strings.HasSuffix(dataStmts[1], "SELECT 2") {
		t.Errorf("data statements: %q", dataStmts)
	}
}
