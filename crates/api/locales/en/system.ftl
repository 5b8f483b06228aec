### Texts the system writes: callback subjects, call outcomes, audit sentences, export headers.


## Spreadsheet exports: column headers (`col_<field>`); the contacts' are the ones the import
## reads back.
col_id = ID
col_last_name = Last name
col_first_name = First name
col_middle_name = Middle name
col_phones = Phones
col_emails = Emails
col_company = Company
col_position = Position
col_owner = Owner
col_created_at = Created
col_name = Name
col_tax_id = Tax ID
col_website = Website
col_address = Address
col_title = Title
col_stage = Stage
col_status = Status
col_amount = Amount
col_currency = Currency
col_probability = Probability, %
col_contact_id = Contact ID
col_loss_reason = Loss reason
col_competitor = Competitor
col_closed_at = Closed

## A deal's status in words.
deal_status_open = Open
deal_status_won = Won
deal_status_lost = Lost

## The dashboard's metrics: each definition (`def_<metric>`), the tiles' tooltips.
def_offered = Inbound calls that entered a queue, counted in the 15-minute slot they arrived in.
def_answered = Offered calls an agent answered.
def_abandoned = Callers who hung up before an answer after waiting at least the short-abandon threshold.
def_short_abandoned = Callers who hung up before an answer after waiting less than the short-abandon threshold; in no rate's numerator.
def_timed_out = Calls released after the queue's maximum wait.
def_blocked = Calls refused at the door because the gateway was at capacity (503 beyond the call limit); counted as offered.
def_missed_offers = Offers that rang an agent and ended unanswered by them (ring timeout or refusal), once per offer.
def_asa_ms = Average speed of answer: queue wait of answered calls / answered.
def_aht_ms = Average handle time: (talk + hold + wrap-up) / handled. A transferred call is handled once by each agent it reached.
def_avg_talk_ms = Talk (connected time minus hold) / handled.
def_avg_hold_ms = Hold / handled.
def_avg_wrapup_ms = After-call work / handled.
def_handled = Calls handled by agents (a transferred call once per agent).
def_service_level = Answered within the queue's threshold (wait <= Y) / offered, all abandons included in the denominator.
def_abandonment_rate = Abandoned / offered.
def_occupancy = Time on calls or in wrap-up / (that + time available or ringing); pauses and offline excluded.
def_outbound_attempts = Outbound calls dialled.
def_outbound_connected = Outbound calls the customer answered.
def_outbound_talk_ms = Talk time of outbound calls.
def_callbacks = Callback tasks created in the range; done on time (completed by their due time); escalated for being overdue.

## The stages a fresh install starts with, until an administrator renames them.
stage_new = New
stage_qualified = Qualified
stage_proposal = Proposal
stage_negotiation = Negotiation

## The audit log in sentences: who, what was done, to which kind of record.
audit_line = {$who}: {$entity} {$action}
audit_verb_won = marked won
audit_verb_lost = marked lost
audit_verb_open = reopened
audit_verb_create = created
audit_verb_update = changed
audit_verb_delete = deleted
audit_verb_merge = merged
audit_verb_export = exported
audit_verb_import_file = imported from a file
audit_verb_stage = moved to another stage
audit_verb_assign = assigned
audit_verb_callback = called back
audit_verb_escalate = escalated
audit_verb_missed_again = missed again
audit_verb_outcome = outcome recorded
audit_verb_download = downloaded
audit_verb_play = listened to
audit_verb_legal_hold = put on legal hold
audit_verb_legal_hold_off = legal hold lifted
audit_verb_purge = purged after the retention period
audit_verb_login = signed in
audit_verb_revoke = revoked
audit_verb_sip_endpoint = phone set up
audit_verb_complete = completed
audit_of_contact = contact
audit_of_company = company
audit_of_deal = deal
audit_of_task = task
audit_of_note = note
audit_of_call = call
audit_of_user = user
audit_of_team = team
audit_of_queue = queue
audit_of_stage = stage
audit_of_custom_field = field
audit_of_setting = setting
audit_of_recording = recording
audit_of_entry_point = voice menu
audit_of_schedule = schedule
audit_of_prompt = prompt
audit_of_session = session
audit_of_api_token = API token

## Kinds of record, for the audit log's filter.
audit_kind_contact = Contact
audit_kind_company = Company
audit_kind_deal = Deal
audit_kind_task = Task
audit_kind_note = Note
audit_kind_call = Call
audit_kind_user = User
audit_kind_team = Team
audit_kind_queue = Queue
audit_kind_stage = Stage
audit_kind_custom_field = Field
audit_kind_setting = Setting
audit_kind_recording = Recording
audit_kind_entry_point = Voice menu
audit_kind_schedule = Schedule
audit_kind_prompt = Prompt
audit_kind_session = Session
audit_kind_api_token = API token
show_json = Show the record (JSON)

## Actions said as a whole, where the verb and the record would read badly.
audit_action_session_login = signed in
audit_action_contact_import_file = imported contacts from a file

## Leads: the thank-you page a website's form gets, the snippet's fields, the audit log's words.
lead_thanks_title = Thank you
lead_thanks = Thank you: we will call you back shortly.
lead_field_name = Your name
lead_field_phone = Phone
lead_field_email = Email
lead_field_message = Your question
lead_field_send = Send
audit_of_lead = lead
audit_of_lead_form = lead form
audit_kind_lead = Lead
audit_kind_lead_form = Lead form
audit_of_webhook = webhook
audit_kind_webhook = Webhook
audit_of_delivery = webhook delivery
audit_kind_delivery = Webhook delivery
audit_verb_redeliver = sent again
