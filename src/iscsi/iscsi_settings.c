/* SPDX-License-Identifier: MIT */
/* iscsi settings defaults (iscsi.h). Pure: kept apart from the server so the
 * key negotiation code and its tests/fuzzers link without scsi. */
#include "iscsi_conn.h"
#include "targetd/util.h"

void iscsi_settings_numeric_defaults(struct iscsi_settings *s)
{
	if (!s->max_recv_data_segment_length)
		s->max_recv_data_segment_length = 256u << 10;
	if (!s->first_burst_length)
		s->first_burst_length = 64u << 10;
	if (!s->max_burst_length)
		s->max_burst_length = 1u << 20;
	if (!s->max_outstanding_r2t)
		s->max_outstanding_r2t = 1;
	if (!s->cmdsn_window)
		s->cmdsn_window = 128;
	if (!s->nop_interval_ms)
		s->nop_interval_ms = 5000;
	if (!s->nop_timeout_ms)
		s->nop_timeout_ms = 15000;
	if (!s->login_timeout_ms)
		s->login_timeout_ms = 15000;
	if (!s->max_connections)
		s->max_connections = 1024;
	if (!s->max_sessions_per_target)
		s->max_sessions_per_target = 256;
	if (!s->max_conn_data_bytes)
		s->max_conn_data_bytes = 64u << 20;
	if (!s->max_connections_per_address)
		s->max_connections_per_address = 64;
	/* RFC 7143 13.12-13.14 ranges; FirstBurstLength <= MaxBurstLength */
	s->max_recv_data_segment_length =
	    UTIL_MAX(512u, UTIL_MIN(s->max_recv_data_segment_length, ISCSI_DSL_MAX));
	s->max_burst_length = UTIL_MAX(512u, UTIL_MIN(s->max_burst_length, ISCSI_DSL_MAX));
	s->first_burst_length =
	    UTIL_MAX(512u, UTIL_MIN(s->first_burst_length, s->max_burst_length));
	if (s->max_outstanding_r2t > ISCSI_R2T_MAX)
		s->max_outstanding_r2t = ISCSI_R2T_MAX;
}

void iscsi_settings_defaults(struct iscsi_settings *s)
{
	/* iscsi.h: every 0 field gets its default, the booleans included
	 * (they all default to true); to turn one off, set it afterwards.
	 * iscsi_server_create() only fills numeric fields. */
	iscsi_settings_numeric_defaults(s);
	if (!s->immediate_data)
		s->immediate_data = true;
	if (!s->initial_r2t)
		s->initial_r2t = true;
	if (!s->allow_digests)
		s->allow_digests = true;
}
