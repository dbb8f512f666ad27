"""Reference data every installation starts with."""

# (key, name, is_content): content kinds make an "active poster" (DESIGN.md section 4).
ACTIVITY_KINDS: list[tuple[str, str, bool]] = [
    ("event_attended", "Attended an event", False),
    ("event_hosted", "Hosted an event", False),
    ("talk_given", "Gave a talk", True),
    ("content_published", "Published content", True),
    ("question_answered", "Answered a question", True),
    ("post_created", "Created a post", True),
    ("mentoring_session", "Held a mentoring session", False),
    ("feedback_submitted", "Submitted feedback", False),
    ("beta_feedback", "Gave beta feedback", False),
    ("referral_converted", "Referred a member who became active", False),
]


def activity_kind_rows() -> list[dict]:
    return [{"key": key, "name": name, "is_content": is_content, "description": None}
            for key, name, is_content in ACTIVITY_KINDS]
