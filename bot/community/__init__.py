"""人民调解 (mediation cases) and the 普法 calendar (publicity), both run through the outbox."""
