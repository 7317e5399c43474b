/* SPDX-License-Identifier: BSD-3-Clause */
/* Prometheus exposition of the stats documents (ctrl/metrics.c). */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "metrics.h"

static char *
render(const char *stats, const char *tunnels)
{
	json_t *s = json_loads(stats, 0, NULL);
	json_t *t = tunnels != NULL ? json_loads(tunnels, 0, NULL) : NULL;
	size_t len = 0;

	cr_assert_not_null(s);
	char *text = nm_metrics_render(s, t, &len);
	cr_assert_not_null(text);
	cr_expect_eq(strlen(text), len);
	json_decref(s);
	json_decref(t);
	return text;
}

static void
expect_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);
	snprintf(want, strlen(line) + 3, "\n%s\n", line);
	cr_expect_not_null(strstr(text, want), "missing line: %s\n--- in ---\n%s", line, text);
	free(want);
}

Test(metrics, scalars_with_help_type_and_units)
{
	char *t =
	    render("{\"rx_packets\": 12, \"pod_count\": 3, \"signatures\": {\"scan_time_us\": "
		   "2500000, \"hits\": 4}, \"control_loop\": {\"max_turn_ms\": 120.5}}",
		   NULL);

	cr_expect_eq(strncmp(t, "# HELP nodemesh_rx_packets_total ", 33), 0, "%s", t);
	expect_line(t, "# TYPE nodemesh_rx_packets_total counter");
	expect_line(t, "nodemesh_rx_packets_total 12");
	expect_line(t, "# TYPE nodemesh_pods gauge");
	expect_line(t, "nodemesh_pods 3");
	expect_line(t, "nodemesh_signature_scan_seconds_total 2.5"); /* us -> s */
	expect_line(t, "nodemesh_signature_hits_total 4");
	expect_line(t, "nodemesh_control_loop_max_turn_seconds 0.1205");
	/* What the document does not hold is not made up. */
	cr_expect_null(strstr(t, "nodemesh_tx_packets_total"));
	free(t);
}

Test(metrics, pods_labelled_by_identity_and_escaped)
{
	char *t = render(
	    "{\"pods\": [{\"name\": \"web-0\", \"namespace\": \"shop\", \"serviceaccount\": "
	    "\"web\", "
	    "\"worker\": 1, \"rx_packets\": 7, \"drops\": 2},"
	    "{\"name\": \"odd\\\"x\\\\y\", \"namespace\": \"shop\", \"serviceaccount\": null, "
	    "\"worker\": 0, \"rx_packets\": 1}]}",
	    NULL);

	expect_line(t, "nodemesh_pod_rx_packets_total{pod=\"web-0\",namespace=\"shop\","
		       "identity=\"shop/web\",worker=\"1\"} 7");
	expect_line(t, "nodemesh_pod_rx_packets_total{pod=\"odd\\\"x\\\\y\",namespace=\"shop\","
		       "identity=\"unknown\",worker=\"0\"} 1");
	expect_line(t, "nodemesh_pod_drops_total{pod=\"web-0\",namespace=\"shop\","
		       "identity=\"shop/web\",worker=\"1\"} 2");
	free(t);
}

Test(metrics, drops_rules_and_sids)
{
	char *t =
	    render("{\"drops\": {\"policy_denied\": 5, \"no_pod\": 0},"
		   "\"policy\": {\"default_flows\": 9, \"default_drops\": 1, "
		   "\"default_requests\": 6, \"default_refused\": 2, \"rules\": "
		   "[{\"id\": 3, \"flows\": 4, \"drops\": 0, \"requests\": 8, \"refused\": 1}]},"
		   "\"signatures\": {\"hits_by_sid\": {\"1000001\": 2}}}",
		   NULL);

	expect_line(t, "nodemesh_drops_total{reason=\"policy_denied\"} 5");
	expect_line(t, "nodemesh_drops_total{reason=\"no_pod\"} 0");
	expect_line(t, "nodemesh_rule_flows_total{rule_id=\"default\"} 9");
	expect_line(t, "nodemesh_rule_flows_total{rule_id=\"3\"} 4");
	expect_line(t, "nodemesh_rule_drops_total{rule_id=\"default\"} 1");
	expect_line(t, "nodemesh_rule_http_requests_total{rule_id=\"default\"} 6");
	expect_line(t, "nodemesh_rule_http_requests_total{rule_id=\"3\"} 8");
	expect_line(t, "nodemesh_rule_http_refused_total{rule_id=\"default\"} 2");
	expect_line(t, "nodemesh_rule_http_refused_total{rule_id=\"3\"} 1");
	expect_line(t, "nodemesh_signature_sid_hits_total{sid=\"1000001\"} 2");
	free(t);
}

/* The loop's bucket counts become a cumulative histogram in seconds. */
Test(metrics, loop_histogram_is_cumulative)
{
	char *t = render("{\"control_loop\": {\"sum_turn_ms\": 250, \"turn_ms_histogram\": "
			 "{\"<1\": 2, \"<2\": 0, \"<4\": 3, \">=4\": 1}}}",
			 NULL);

	expect_line(t, "# TYPE nodemesh_control_loop_turn_seconds histogram");
	expect_line(t, "nodemesh_control_loop_turn_seconds_bucket{le=\"0.001\"} 2");
	expect_line(t, "nodemesh_control_loop_turn_seconds_bucket{le=\"0.002\"} 2");
	expect_line(t, "nodemesh_control_loop_turn_seconds_bucket{le=\"0.004\"} 5");
	expect_line(t, "nodemesh_control_loop_turn_seconds_bucket{le=\"+Inf\"} 6");
	expect_line(t, "nodemesh_control_loop_turn_seconds_sum 0.25");
	expect_line(t, "nodemesh_control_loop_turn_seconds_count 6");
	free(t);
}

Test(metrics, ports_kernel_drops)
{
	char *t =
	    render("{\"ports\": [{\"pod\": \"web-0\", \"iface\": \"nm1\", \"rx_ring_drops\": 9200},"
		   "{\"pod\": \"db\", \"iface\": \"nm2\", \"rx_missed\": 3}]}",
		   NULL);

	expect_line(t, "nodemesh_port_rx_ring_drops_total{pod=\"web-0\",iface=\"nm1\"} 9200");
	expect_line(t, "nodemesh_port_rx_missed_total{pod=\"db\",iface=\"nm2\"} 3");
	free(t);
}

Test(metrics, peers)
{
	char *t =
	    render("{}", "[{\"name\": \"node-b\", \"state\": \"up\", \"tx_packets\": 10, "
			 "\"rejected_total\": 1}, {\"name\": \"node-c\", \"state\": \"idle\"}]");

	expect_line(t, "nodemesh_peer_tx_packets_total{peer=\"node-b\"} 10");
	expect_line(t, "nodemesh_peer_records_rejected_total{peer=\"node-b\"} 1");
	expect_line(t, "nodemesh_peer_up{peer=\"node-b\"} 1");
	expect_line(t, "nodemesh_peer_up{peer=\"node-c\"} 0");
	free(t);
}
