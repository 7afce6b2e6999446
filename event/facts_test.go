package event

import (
	"slices"
	"testing"
	"time"
)

func TestFactsOfSentryEvent(t *testing.T) {
	e, err := ParseSentry([]byte(`{"event_id":"a","level":"warning","environment":"production","release":"1.0",
		"user":{"ip_address":"203.0.113.9","email":"a@x.test","id":7,"segment":"paid","geo":{"country_code":"DE"}},
		"tags":{"b":"2","a":"1"},"server_name":"web-1",
		"contexts":{"device":{"arch":"x64"},"culture":{"locale":"de-DE"},"os":{"type":"os","version":"6.8","name":"Linux"},
			"runtime":{"name":"node","version":"v20"},"empty":{"type":"x"}},
		"sdk":{"name":"sentry.javascript.node","version":"10.1.0"}}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := FactsOf(e)
	if f.Environment != "production" || f.Level != "warning" || f.Release != "1.0" || f.SDKName != "sentry.javascript.node" || f.SDKVersion != "10.1.0" {
		t.Errorf("facts %+v", f)
	}
	wantUser := []Field{{"ID", "7"}, {"Email", "a@x.test"}, {"IP address", "203.0.113.9"}, {"geo", `{"country_code":"DE"}`}, {"segment", "paid"}}
	if !slices.Equal(f.User, wantUser) {
		t.Errorf("user %v, want %v", f.User, wantUser)
	}
	if !slices.Equal(f.Tags, []Field{{"a", "1"}, {"b", "2"}}) {
		t.Errorf("tags %v", f.Tags)
	}
	var names []string
	for _, c := range f.Contexts {
		names = append(names, c.Name)
	}
	// Known contexts first, then the rest by name; one with no fields left out.
	if !slices.Equal(names, []string{"os", "runtime", "device", "culture"}) {
		t.Errorf("contexts %v", names)
	}
	if !slices.Equal(f.Contexts[0].Fields, []Field{{"name", "Linux"}, {"version", "6.8"}}) || f.Contexts[0].Title != "Operating system" {
		t.Errorf("os context %+v", f.Contexts[0])
	}
	if !slices.Equal(f.More, []Field{{"Server", "web-1"}}) {
		t.Errorf("more %v", f.More)
	}
}

func TestFactsOfPostHogEvent(t *testing.T) {
	e, err := ParsePostHog([]byte(`{"uuid":"u","distinct_id":"user-1","properties":{"$lib":"posthog-js","$lib_version":"1.2.3",
		"$browser":"Chrome","$browser_version":120,"$os":"Mac OS X","$os_version":"14.1","$device_type":"Desktop",
		"$screen_width":1920,"$screen_height":1080,"$current_url":"https://shop.test/","$environment":"staging",
		"$ip":"198.51.100.4","$set":{"email":"u@x.test"},"plan":"pro"}}`), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := FactsOf(e)
	if f.Environment != "staging" || f.SDKName != "posthog-js" || f.SDKVersion != "1.2.3" || f.URL != "https://shop.test/" || len(f.Tags) != 0 {
		t.Errorf("facts %+v", f)
	}
	if want := []Field{{"ID", "user-1"}, {"Email", "u@x.test"}, {"IP address", "198.51.100.4"}}; !slices.Equal(f.User, want) {
		t.Errorf("user %v, want %v", f.User, want)
	}
	want := []Context{
		{"browser", "Browser", []Field{{"name", "Chrome"}, {"version", "120"}}},
		{"os", "Operating system", []Field{{"name", "Mac OS X"}, {"version", "14.1"}}},
		{"device", "Device", []Field{{"type", "Desktop"}, {"screen", "1920×1080"}}},
	}
	if len(f.Contexts) != len(want) {
		t.Fatalf("contexts %+v, want %+v", f.Contexts, want)
	}
	for i := range want {
		if f.Contexts[i].Name != want[i].Name || f.Contexts[i].Title != want[i].Title || !slices.Equal(f.Contexts[i].Fields, want[i].Fields) {
			t.Errorf("context %d: %+v, want %+v", i, f.Contexts[i], want[i])
		}
	}
}
