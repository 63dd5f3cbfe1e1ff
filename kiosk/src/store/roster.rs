//! The roster and settings: residents, cards, each resident's voice and text size, the office's settings.

use super::*;

impl Store {
    // ---- Roster and settings. ----

    /// The resident whose card has this identity, if the roster has them.
    pub fn resident_by_card(&self, card_identity_hex: &str) -> Result<Option<Resident>, StoreError> {
        let Some(card) = normalise_card(card_identity_hex) else { return Ok(None) };
        Ok(self
            .conn
            .query_row("SELECT id, display_name FROM residents WHERE card_identity = ?1", [card], |r| {
                Ok(Resident { id: ResidentId(r.get(0)?), display_name: r.get(1)? })
            })
            .optional()?)
    }

    /// Everyone on this tablet's roster, by id.
    pub fn residents(&self) -> Result<Vec<Resident>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id, display_name FROM residents ORDER BY id")?;
        let rows =
            stmt.query_map([], |r| Ok(Resident { id: ResidentId(r.get(0)?), display_name: r.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Adds or updates a roster entry (demo, staff linking on the tablet). A card given
    /// here moves from whoever held it before.
    pub fn upsert_resident(
        &mut self,
        r: &Resident,
        card_identity_hex: Option<&str>,
    ) -> Result<(), StoreError> {
        let card = match card_identity_hex {
            Some(c) => Some(normalise_card(c).ok_or_else(|| {
                StoreError::Invalid("a card identity is 64 hex digits (SHA-256)".to_owned())
            })?),
            None => None,
        };
        let tx = self.write()?;
        if let Some(card) = &card {
            tx.execute(
                "UPDATE residents SET card_identity = NULL WHERE card_identity = ?1 AND id != ?2",
                params![card, r.id.0],
            )?;
        }
        tx.execute(
            "INSERT INTO residents (id, display_name, card_identity) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,
                 card_identity = coalesce(excluded.card_identity, card_identity)",
            params![r.id.0, r.display_name, card],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The resident's settings, or the defaults when none were saved.
    pub fn settings(&self, resident: ResidentId) -> Result<ResidentSettings, StoreError> {
        settings_conn(&self.conn, resident)
    }

    /// Saves the resident's settings (refused when out of range).
    pub fn save_settings(&mut self, resident: ResidentId, s: &ResidentSettings) -> Result<(), StoreError> {
        s.validate()?;
        let tx = self.write()?;
        save_settings_tx(&tx, resident, s)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the office asked this resident's card sign-in to take the card's PIN.
    pub fn pin_sign_in(&self, resident: ResidentId) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT pin_sign_in FROM office_settings WHERE resident_id = ?1", [resident.0], |r| {
                r.get::<_, bool>(0)
            })
            .optional()?
            .unwrap_or(false))
    }

    /// What the office decided for the resident (window, grace, contraindications,
    /// pauses, emergency contacts), once it has sent it.
    pub fn office_settings(&self, resident: ResidentId) -> Result<Option<OfficeSettings>, StoreError> {
        let row: Option<(String, String, i64, String)> = self
            .conn
            .query_row(
                "SELECT window_start, window_end, grace_minutes, contraindications FROM office_settings
                 WHERE resident_id = ?1",
                [resident.0],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((start, end, grace, contra)) = row else { return Ok(None) };
        let time = |s: &str| {
            chrono::NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| StoreError::Corrupt { detail: "office_settings window".to_owned() })
        };
        let mut stmt = self
            .conn
            .prepare("SELECT from_ms, until_ms FROM pauses WHERE resident_id = ?1 ORDER BY from_ms")?;
        let pauses = stmt
            .query_map([resident.0], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?
            .map(|p| {
                let (from, until) = p?;
                Ok((downstream::from_ms(from)?, downstream::from_ms(until)?))
            })
            .collect::<Result<_, StoreError>>()?;
        let emergency_contacts = self.emergency_contacts(resident)?;
        Ok(Some(OfficeSettings {
            checkin_window: (time(&start)?, time(&end)?),
            grace_minutes: grace as u32,
            contraindications: contra.split(',').filter_map(|c| c.parse().ok()).collect(),
            pauses,
            emergency_contacts,
        }))
    }

    /// What staff noted the resident enjoys, in the office's order.
    pub fn interests(&self, resident: ResidentId) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT interest FROM interests WHERE resident_id = ?1 ORDER BY position")?;
        let rows = stmt.query_map([resident.0], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Whom the help screen shows to call, in the office's order.
    pub fn emergency_contacts(&self, resident: ResidentId) -> Result<Vec<EmergencyContact>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, relation, phone FROM emergency_contacts WHERE resident_id = ?1 ORDER BY position",
        )?;
        let contacts = stmt
            .query_map([resident.0], |r| {
                Ok(EmergencyContact { name: r.get(0)?, relation: r.get(1)?, phone: r.get(2)? })
            })?
            .collect::<Result<_, _>>()?;
        Ok(contacts)
    }

    /// The planner's profile: the office's contraindications on top of care's
    /// default equipment (a chair, a wall, a towel).
    pub fn planner_profile(&self, resident: ResidentId) -> Result<care::planner::Profile, StoreError> {
        let mut profile = care::planner::Profile::default();
        if let Some(o) = self.office_settings(resident)? {
            profile.contraindications = o.contraindications;
        }
        Ok(profile)
    }

    /// Whether the office has paused the resident's check-ins at `at` (hospital, away).
    pub fn paused_at(&self, resident: ResidentId, at: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM pauses WHERE resident_id = ?1 AND from_ms <= ?2 AND ?2 < until_ms)",
            params![resident.0, at.timestamp_millis()],
            |r| r.get(0),
        )?)
    }
}

pub(super) fn settings_conn(conn: &Connection, resident: ResidentId) -> Result<ResidentSettings, StoreError> {
    Ok(conn
        .query_row(
            "SELECT volume, speech_rate, text_scale, voice FROM settings WHERE resident_id = ?1",
            [resident.0],
            |r| {
                Ok(ResidentSettings {
                    volume: r.get::<_, f64>(0)? as f32,
                    speech_rate: r.get::<_, f64>(1)? as f32,
                    text_scale: r.get::<_, f64>(2)? as f32,
                    // A voice this kiosk does not know (a newer one's) speaks with the default.
                    voice: dialect_model::tts::Voice::from_key(&r.get::<_, String>(3)?).unwrap_or_default(),
                })
            },
        )
        .optional()?
        .unwrap_or_default())
}

pub(super) fn save_settings_tx(
    tx: &Transaction<'_>,
    resident: ResidentId,
    s: &ResidentSettings,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO settings (resident_id, volume, speech_rate, text_scale, voice) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (resident_id) DO UPDATE SET volume = excluded.volume,
             speech_rate = excluded.speech_rate, text_scale = excluded.text_scale, voice = excluded.voice",
        params![resident.0, f64::from(s.volume), f64::from(s.speech_rate), f64::from(s.text_scale), s.voice.key()],
    )?;
    Ok(())
}
