package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/back-trace/datamap/catalog"
	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/stack"
)

// queryFlags are the flags inventory and flows share.
type queryFlags struct {
	filter catalog.Filter
	format string
}

func (q *queryFlags) register(fs *flag.FlagSet, flows bool) {
	fs.StringVar(&q.filter.System, "system", "", "only this system (the event source), e.g. billing-api")
	fs.StringVar(&q.filter.Category, "category", "", "only this category and its subtree, e.g. billing matches billing.*")
	if flows {
		fs.StringVar(&q.filter.Recipient, "recipient", "", "only this recipient, e.g. Stripe")
		fs.StringVar(&q.filter.Country, "country", "", "only recipients in this country (ISO 3166-1 alpha-2), e.g. US")
	}
	fs.StringVar(&q.format, "format", "table", "output format: table, json or csv")
}

// check refuses filter values that can never match, so a typo is an error
// instead of an empty answer.
func (q *queryFlags) check(fs *flag.FlagSet, tax *events.Taxonomy) error {
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q; filters are flags, e.g. --system %s", fs.Arg(0), fs.Arg(0))
	}
	if err := checkFormat(q.format); err != nil {
		return err
	}
	if c := q.filter.Category; c != "" && len(tax.Subtree(c)) == 0 {
		return usagef("--category %q is not a category of the taxonomy; 'datamap taxonomy' lists them", c)
	}
	if c := q.filter.Country; c != "" {
		if _, ok := events.LookupCountry(c); !ok {
			return usagef("--country %q is not an ISO 3166-1 alpha-2 code such as DE or US", c)
		}
	}
	return nil
}

func runInventory(ctx context.Context, e *env, args []string) error {
	var q queryFlags
	fs := newFlags(e, "inventory", "[flags]", `
What personal data is held: one row per system, category, data subject,
purpose and legal basis, with the declared retention, the number of events
and records, and when it was first and last seen. Counts are over distinct
events, however often they were delivered.`, `
  datamap inventory
  datamap inventory --category billing --format csv > billing.csv
  datamap inventory --system support-desk --format json | jq '.[].records'`)
	q.register(fs, false)
	if err := parse(fs, args); err != nil {
		return err
	}
	return runQuery(ctx, e, fs, &q, func(s *stack.Stack) error {
		rows, err := catalog.Inventory(ctx, s.ClickHouse, q.filter)
		if err != nil {
			return err
		}
		return render(e.stdout, q.format, rows)
	})
}

func runFlows(ctx context.Context, e *env, args []string) error {
	var q queryFlags
	fs := newFlags(e, "flows", "[flags]", `
Who received personal data: one row per system, category, recipient, role,
country and transfer safeguard, with events, records and first/last seen.`, `
  datamap flows
  datamap flows --recipient Stripe
  datamap flows --country US --format csv`)
	q.register(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	return runQuery(ctx, e, fs, &q, func(s *stack.Stack) error {
		rows, err := catalog.Flows(ctx, s.ClickHouse, q.filter)
		if err != nil {
			return err
		}
		return render(e.stdout, q.format, rows)
	})
}

func runQuery(ctx context.Context, e *env, fs *flag.FlagSet, q *queryFlags, query func(*stack.Stack) error) error {
	tax, err := loadTaxonomy(e)
	if err != nil {
		return err
	}
	if err := q.check(fs, tax); err != nil {
		return err
	}
	s, err := stack.Attach(ctx, e.cfg, quiet(e))
	if err != nil {
		return err
	}
	defer s.Close(context.WithoutCancel(ctx))
	return query(s)
}

func loadTaxonomy(e *env) (*events.Taxonomy, error) {
	if e.cfg.Taxonomy == "" {
		return events.DefaultTaxonomy(), nil
	}
	t, err := events.LoadTaxonomy(e.cfg.Taxonomy)
	if err != nil {
		return nil, fmt.Errorf("DATAMAP_TAXONOMY: %w", err)
	}
	return t, nil
}
