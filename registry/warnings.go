package registry

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/back-trace/datamap/events"
	"github.com/back-trace/datamap/events/taxonomy"
)

// Warning is a gap in a registry that is otherwise valid: a placeholder a
// draft left, or a field the GDPR requires of this controller left empty.
// The registry can be used; validate and the record show every warning
// until it is fixed.
type Warning struct {
	Field   string // the field's path, e.g. "controller.dpo"
	Message string // what is wrong and what to do
}

func (w Warning) String() string { return w.Field + ": " + w.Message }

// DPORequired says whether Art. 37(1) requires a data protection officer
// and why: as the controller declares with dpo_required, else when an
// activity processes a special category (Art. 37(1)(c)). Large-scale
// monitoring, such as a telecom's traffic data, is a matter of scale the
// registry cannot see; declare dpo_required: true for it.
func (r *Registry) DPORequired(tax *taxonomy.Taxonomy) (bool, string) {
	if r.Controller.DPORequired != nil {
		return *r.Controller.DPORequired, "the registry declares dpo_required"
	}
	if tax == nil {
		return false, ""
	}
	for _, a := range r.AllActivities() {
		for _, k := range a.DataCategories {
			if c, ok := tax.Category(k); ok && c.Special {
				return true, "activity " + strconv.Quote(a.ID) + " processes the special category " + strconv.Quote(k) + " (Art. 37(1)(c))"
			}
		}
	}
	return false, ""
}

// Warnings lists the registry's gaps, in the registry's order: placeholders first
// (any text starting with TODO), then the controller's mandatory fields.
func (r *Registry) Warnings(tax *taxonomy.Taxonomy) []Warning {
	var out []Warning
	placeholders(reflect.ValueOf(r).Elem(), "", &out)
	c := r.Controller
	if strings.TrimSpace(c.Name) == "" {
		out = append(out, Warning{"controller.name", "the controller's legal name is missing; Art. 30(1)(a) requires it"})
	}
	if c.Contact.String() == "" {
		out = append(out, Warning{"controller.contact", "no contact details; Art. 30(1)(a) requires how to reach the controller"})
	}
	if required, why := r.DPORequired(tax); required && c.DPO.String() == "" {
		out = append(out, Warning{"controller.dpo", "a data protection officer is required (" + why + ") and none is declared; add the DPO's contact details"})
	}
	if country, ok := events.LookupCountry(c.Country); ok && !country.EEA && c.Representative.String() == "" {
		out = append(out, Warning{"controller.representative", "the controller is established in " + country.Name +
			", outside the EEA, and declares no representative in the EU (Art. 27); add one, or record why Art. 27(2) exempts it"})
	}
	return out
}

// placeholders walks the registry by its YAML field names and reports
// every text that is still a draft's TODO.
func placeholders(v reflect.Value, path string, out *[]Warning) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			placeholders(v.Elem(), path, out)
		}
	case reflect.String:
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(v.String())), "TODO") {
			*out = append(*out, Warning{path, "still a placeholder (" + strconv.Quote(v.String()) + "); replace it with the real value"})
		}
	case reflect.Slice:
		for i := range v.Len() {
			placeholders(v.Index(i), path+"["+strconv.Itoa(i)+"]", out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			child := path
			if name != "" { // an inline struct keeps its parent's path
				child = strings.TrimPrefix(path+"."+name, ".")
			}
			placeholders(v.Field(i), child, out)
		}
	}
}
