//! Emscripten time functions: clocks, `struct tm` conversions (the time zone is UTC, named
//! GMT), `strftime` and `strptime` as emcc's JavaScript library implemented them.

use super::ctx::{Args, Ctx};
use runtime_engine::Trap;
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Milliseconds since an arbitrary start, like `performance.now()`.
pub(crate) fn monotonic_ms() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
        * 1000.0
}

pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn yday(y: i64, m0: i64, d: i64) -> i64 {
    days_from_civil(y, m0 + 1, d) - days_from_civil(y, 1, 1)
}

fn wday(y: i64, m0: i64, d: i64) -> i64 {
    (days_from_civil(y, m0 + 1, d) + 4).rem_euclid(7)
}

/// `struct tm` of musl: nine ints, then `tm_gmtoff` and `tm_zone`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tm {
    pub sec: i32,
    pub min: i32,
    pub hour: i32,
    pub mday: i32,
    pub mon: i32,
    pub year: i32,
    pub wday: i32,
    pub yday: i32,
    pub isdst: i32,
    pub gmtoff: i32,
    pub zone: u32,
}

impl Tm {
    pub fn from_time(t: i64, zone: u32) -> Tm {
        let days = t.div_euclid(86400);
        let secs = t.rem_euclid(86400);
        let (y, m, d) = civil_from_days(days);
        Tm {
            sec: (secs % 60) as i32,
            min: (secs / 60 % 60) as i32,
            hour: (secs / 3600) as i32,
            mday: d as i32,
            mon: (m - 1) as i32,
            year: (y - 1900) as i32,
            wday: (days + 4).rem_euclid(7) as i32,
            yday: yday(y, m - 1, d) as i32,
            isdst: 0,
            gmtoff: 0,
            zone,
        }
    }

    /// Seconds since the epoch, normalising out-of-range fields like `mktime`.
    pub fn to_time(self) -> i64 {
        let y = self.year as i64 + 1900 + (self.mon as i64).div_euclid(12);
        let m = (self.mon as i64).rem_euclid(12);
        let days = days_from_civil(y, m + 1, 1) + self.mday as i64 - 1;
        days * 86400 + self.hour as i64 * 3600 + self.min as i64 * 60 + self.sec as i64
    }

    pub fn read(ctx: &mut Ctx<'_>, p: u32) -> Result<Tm, Trap> {
        let mut v = [0i32; 11];
        for (i, slot) in v.iter_mut().enumerate() {
            *slot = ctx.i32(p + 4 * i as u32)?;
        }
        Ok(Tm {
            sec: v[0],
            min: v[1],
            hour: v[2],
            mday: v[3],
            mon: v[4],
            year: v[5],
            wday: v[6],
            yday: v[7],
            isdst: v[8],
            gmtoff: v[9],
            zone: v[10] as u32,
        })
    }

    pub fn write(&self, ctx: &mut Ctx<'_>, p: u32) -> Result<(), Trap> {
        let v = [
            self.sec,
            self.min,
            self.hour,
            self.mday,
            self.mon,
            self.year,
            self.wday,
            self.yday,
            self.isdst,
            self.gmtoff,
            self.zone as i32,
        ];
        for (i, x) in v.iter().enumerate() {
            ctx.set_i32(p + 4 * i as u32, *x)?;
        }
        Ok(())
    }
}

fn zone(ctx: &mut Ctx<'_>) -> u32 {
    ctx.st().statics.tm_zone
}

/// `time(t)`.
pub(crate) fn time(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let t = now() as i32;
    if a.u32(0) != 0 {
        ctx.set_i32(a.u32(0), t)?;
    }
    Ok(t)
}

/// `clock_gettime(clk, tp)`: realtime (0) and monotonic (1, 4); EINVAL otherwise.
pub(crate) fn clock_gettime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let ns: u128 = match a.i32(0) {
        0 => (now() * 1e9) as u128,
        1 | 4 => (monotonic_ms() * 1e6) as u128,
        _ => {
            let e = errno_inval(ctx);
            ctx.set_errno(e)?;
            return Ok(-1);
        }
    };
    ctx.set_i32(a.u32(1), (ns / 1_000_000_000) as i32)?;
    ctx.set_i32(a.u32(1) + 4, (ns % 1_000_000_000) as i32)?;
    Ok(0)
}

fn errno_inval(ctx: &mut Ctx<'_>) -> i32 {
    super::syscalls::errno(ctx.st().abi, super::fs::Errno::Inval)
}

pub(crate) fn clock_getres(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let nsec = match a.i32(0) {
        0 => 1_000_000,
        1 | 4 => 1000,
        _ => {
            let e = errno_inval(ctx);
            ctx.set_errno(e)?;
            return Ok(-1);
        }
    };
    if a.u32(1) != 0 {
        ctx.set_i32(a.u32(1), 0)?;
        ctx.set_i32(a.u32(1) + 4, nsec)?;
    }
    Ok(0)
}

pub(crate) fn clock_settime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let abi = ctx.st().abi;
    let e = if a.i32(0) == 0 {
        super::fs::Errno::Perm
    } else {
        super::fs::Errno::Inval
    };
    ctx.set_errno(super::syscalls::errno(abi, e))?;
    Ok(-1)
}

pub(crate) fn gettimeofday(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let t = now();
    ctx.set_i32(a.u32(0), t as i32)?;
    ctx.set_i32(a.u32(0) + 4, ((t.fract()) * 1e6) as i32)?;
    Ok(0)
}

/// `gmtime_r(timep, tm)` and `localtime_r` (the local zone is UTC).
pub(crate) fn gmtime_r(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let t = ctx.i32(a.u32(0))? as i64;
    let z = zone(ctx);
    Tm::from_time(t, z).write(ctx, a.u32(1))?;
    Ok(a.u32(1))
}

/// `gmtime(timep)` / `localtime(timep)`: into the static `tm`.
pub(crate) fn gmtime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let tm = ctx.st().statics.tm;
    let t = ctx.i32(a.u32(0))? as i64;
    let z = zone(ctx);
    Tm::from_time(t, z).write(ctx, tm)?;
    Ok(tm)
}

/// `mktime(tm)` / `timegm(tm)`: normalises the fields and returns the time.
pub(crate) fn mktime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let tm = Tm::read(ctx, a.u32(0))?;
    let t = tm.to_time();
    let z = zone(ctx);
    Tm::from_time(t, z).write(ctx, a.u32(0))?;
    Ok(t as i32)
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn asctime_str(tm: &Tm) -> String {
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}\n",
        &DAYS[tm.wday.rem_euclid(7) as usize][..3],
        &MONTHS[tm.mon.rem_euclid(12) as usize][..3],
        tm.mday,
        tm.hour,
        tm.min,
        tm.sec,
        tm.year + 1900
    )
}

/// `asctime_r(tm, buf)`.
pub(crate) fn asctime_r(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let tm = Tm::read(ctx, a.u32(0))?;
    ctx.write_cstr(a.u32(1), asctime_str(&tm).as_bytes())?;
    Ok(a.u32(1))
}

pub(crate) fn asctime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let buf = ctx.st().statics.ctime_buf;
    let tm = Tm::read(ctx, a.u32(0))?;
    ctx.write_cstr(buf, asctime_str(&tm).as_bytes())?;
    Ok(buf)
}

pub(crate) fn ctime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let buf = ctx.st().statics.ctime_buf;
    let t = ctx.i32(a.u32(0))? as i64;
    ctx.write_cstr(buf, asctime_str(&Tm::from_time(t, 0)).as_bytes())?;
    Ok(buf)
}

pub(crate) fn ctime_r(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let t = ctx.i32(a.u32(0))? as i64;
    ctx.write_cstr(a.u32(1), asctime_str(&Tm::from_time(t, 0)).as_bytes())?;
    Ok(a.u32(1))
}

/// ISO 8601 week-based year and week of a date.
fn iso_week(y: i64, yd: i64, wd: i64) -> (i64, i64) {
    let wd_mon = (wd + 6) % 7; // Monday = 0
    let week = (yd - wd_mon + 10) / 7;
    if week < 1 {
        let py = y - 1;
        let pyd = yd + if is_leap(py) { 366 } else { 365 };
        return iso_week(py, pyd, wd);
    }
    let days_in_year = if is_leap(y) { 366 } else { 365 };
    if week == 53 && yd - wd_mon + 3 >= days_in_year {
        return (y + 1, 1);
    }
    (y, week)
}

/// Formats `tm` like C's `strftime`.
pub(crate) fn format_tm(ctx: &mut Ctx<'_>, fmt: &[u8], tm: &Tm) -> Result<Vec<u8>, Trap> {
    let mut out = Vec::new();
    let mut i = 0;
    let y = tm.year as i64 + 1900;
    let yd = yday(y, tm.mon.rem_euclid(12) as i64, tm.mday as i64);
    let wd_calc = wday(y, tm.mon.rem_euclid(12) as i64, tm.mday as i64);
    let wd = tm.wday.rem_euclid(7) as i64;
    // ISO weeks: the date is January 1st plus `tm_yday` (as emcc's JavaScript computed it).
    let iso = {
        let days = days_from_civil(y, 1, 1) + tm.yday as i64;
        iso_week(y, tm.yday as i64, (days + 4).rem_euclid(7))
    };
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' || i + 1 >= fmt.len() {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        let mut spec = fmt[i];
        if (spec == b'E' || spec == b'O') && i + 1 < fmt.len() {
            i += 1;
            spec = fmt[i];
        }
        i += 1;
        let s: String = match spec {
            b'a' => DAYS[wd as usize][..3].to_string(),
            b'A' => DAYS[wd as usize].to_string(),
            b'b' | b'h' => MONTHS[tm.mon.rem_euclid(12) as usize][..3].to_string(),
            b'B' => MONTHS[tm.mon.rem_euclid(12) as usize].to_string(),
            b'c' => {
                String::from_utf8_lossy(&format_tm(ctx, b"%a %b %e %H:%M:%S %Y", tm)?).into_owned()
            }
            b'C' => format!("{:02}", y.div_euclid(100)),
            b'd' => format!("{:02}", tm.mday),
            b'D' | b'x' => String::from_utf8_lossy(&format_tm(ctx, b"%m/%d/%y", tm)?).into_owned(),
            b'e' => format!("{:>2}", tm.mday),
            b'F' => String::from_utf8_lossy(&format_tm(ctx, b"%Y-%m-%d", tm)?).into_owned(),
            b'g' => format!("{:02}", iso.0.rem_euclid(100)),
            b'G' => format!("{}", iso.0),
            b'H' => format!("{:02}", tm.hour),
            b'I' => format!("{:02}", if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 }),
            b'j' => format!("{:03}", yd + 1),
            b'm' => format!("{:02}", tm.mon + 1),
            b'M' => format!("{:02}", tm.min),
            b'n' => "\n".into(),
            b'p' => if tm.hour < 12 { "AM" } else { "PM" }.into(),
            b'r' => String::from_utf8_lossy(&format_tm(ctx, b"%I:%M:%S %p", tm)?).into_owned(),
            b'R' => String::from_utf8_lossy(&format_tm(ctx, b"%H:%M", tm)?).into_owned(),
            b's' => format!("{}", tm.to_time() - tm.gmtoff as i64),
            b'S' => format!("{:02}", tm.sec),
            b't' => "\t".into(),
            b'T' | b'X' => String::from_utf8_lossy(&format_tm(ctx, b"%H:%M:%S", tm)?).into_owned(),
            b'u' => format!("{}", if wd == 0 { 7 } else { wd }),
            b'U' => format!("{:02}", (yd + 7 - wd_calc) / 7),
            b'V' => format!("{:02}", iso.1),
            b'w' => format!("{wd}"),
            b'W' => format!("{:02}", (yd + 7 - (wd_calc + 6) % 7) / 7),
            b'y' => format!("{:02}", y.rem_euclid(100)),
            b'Y' => format!("{y}"),
            b'z' => {
                let off = tm.gmtoff;
                let a = off.abs() / 60;
                format!(
                    "{}{:04}",
                    if off >= 0 { '+' } else { '-' },
                    a / 60 * 100 + a % 60
                )
            }
            b'Z' => {
                if tm.zone != 0 {
                    ctx.cstr(tm.zone)?
                } else {
                    String::new()
                }
            }
            b'%' => "%".into(),
            other => {
                out.push(b'%');
                out.push(other);
                continue;
            }
        };
        out.extend_from_slice(s.as_bytes());
    }
    Ok(out)
}

/// `strftime(s, max, format, tm)` (and `strftime_l`, which ignores its locale).
pub(crate) fn strftime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<i32, Trap> {
    let fmt = ctx.cstr_bytes(a.u32(2))?;
    let tm = Tm::read(ctx, a.u32(3))?;
    let out = format_tm(ctx, &fmt, &tm)?;
    if out.len() + 1 > a.u32(1) as usize {
        return Ok(0);
    }
    ctx.write_cstr(a.u32(0), &out)?;
    Ok(out.len() as i32)
}

/// The parser state of `strptime`.
struct Parse<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parse<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn num(&mut self, max_digits: usize) -> Option<i64> {
        let start = self.pos;
        let mut neg = false;
        if self.pos < self.s.len() && (self.s[self.pos] == b'+' || self.s[self.pos] == b'-') {
            neg = self.s[self.pos] == b'-';
            self.pos += 1;
        }
        let digits_start = self.pos;
        while self.pos < self.s.len()
            && self.pos - digits_start < max_digits
            && self.s[self.pos].is_ascii_digit()
        {
            self.pos += 1;
        }
        if self.pos == digits_start {
            self.pos = start;
            return None;
        }
        let v: i64 = std::str::from_utf8(&self.s[digits_start..self.pos])
            .ok()?
            .parse()
            .ok()?;
        Some(if neg { -v } else { v })
    }
    fn name(&mut self, names: &[&str]) -> Option<usize> {
        let rest = &self.s[self.pos..];
        for (i, n) in names.iter().enumerate() {
            for cand in [n.as_bytes(), &n.as_bytes()[..3]] {
                if rest.len() >= cand.len() && rest[..cand.len()].eq_ignore_ascii_case(cand) {
                    self.pos += cand.len();
                    return Some(i);
                }
            }
        }
        None
    }
}

#[derive(Default)]
struct Parsed {
    year: Option<i64>,
    century: Option<i64>,
    yy: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    yday: Option<i64>,
    hour: Option<i64>,
    hour12: Option<i64>,
    pm: Option<bool>,
    min: Option<i64>,
    sec: Option<i64>,
    wday: Option<i64>,
    week_u: Option<i64>,
    week_w: Option<i64>,
}

fn parse_fmt(p: &mut Parse<'_>, fmt: &[u8], out: &mut Parsed) -> Option<()> {
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if c.is_ascii_whitespace() {
            p.skip_ws();
            i += 1;
            continue;
        }
        if c != b'%' || i + 1 >= fmt.len() {
            if p.pos < p.s.len() && p.s[p.pos].eq_ignore_ascii_case(&c) {
                p.pos += 1;
                i += 1;
                continue;
            }
            return None;
        }
        i += 1;
        let mut spec = fmt[i];
        if (spec == b'E' || spec == b'O') && i + 1 < fmt.len() {
            i += 1;
            spec = fmt[i];
        }
        i += 1;
        match spec {
            b'a' | b'A' => out.wday = Some(p.name(&DAYS)? as i64),
            b'b' | b'B' | b'h' => out.month = Some(p.name(&MONTHS)? as i64),
            b'c' => parse_fmt(p, b"%a %b %d %H:%M:%S %Y", out)?,
            b'C' => out.century = Some(p.num(2)?),
            b'd' | b'e' => {
                p.skip_ws();
                out.day = Some(p.num(2)?)
            }
            b'D' | b'x' => parse_fmt(p, b"%m/%d/%y", out)?,
            b'F' => parse_fmt(p, b"%Y-%m-%d", out)?,
            b'H' | b'k' => out.hour = Some(p.num(2)?),
            b'I' | b'l' => out.hour12 = Some(p.num(2)?),
            b'j' => out.yday = Some(p.num(3)? - 1),
            b'm' => out.month = Some(p.num(2)? - 1),
            b'M' => out.min = Some(p.num(2)?),
            b'n' | b't' => p.skip_ws(),
            b'p' => {
                let rest = &p.s[p.pos..];
                if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"AM") {
                    out.pm = Some(false);
                } else if rest.len() >= 2 && rest[..2].eq_ignore_ascii_case(b"PM") {
                    out.pm = Some(true);
                } else {
                    return None;
                }
                p.pos += 2;
            }
            b'r' => parse_fmt(p, b"%I:%M:%S %p", out)?,
            b'R' => parse_fmt(p, b"%H:%M", out)?,
            b'S' => out.sec = Some(p.num(2)?),
            b'T' | b'X' => parse_fmt(p, b"%H:%M:%S", out)?,
            b'u' => out.wday = Some(p.num(1)? % 7),
            b'w' => out.wday = Some(p.num(1)?),
            b'U' => out.week_u = Some(p.num(2)?),
            b'W' => out.week_w = Some(p.num(2)?),
            b'V' | b'g' => {
                p.num(2)?;
            }
            b'G' => {
                p.num(4)?;
            }
            b'y' => out.yy = Some(p.num(2)?),
            b'Y' => out.year = Some(p.num(4)?),
            b'z' => {
                if p.pos < p.s.len() && p.s[p.pos] == b'Z' {
                    p.pos += 1;
                } else {
                    p.num(4)?;
                }
            }
            b'Z' => {
                while p.pos < p.s.len() && p.s[p.pos].is_ascii_alphabetic() {
                    p.pos += 1;
                }
            }
            b'%' => {
                if p.s.get(p.pos) != Some(&b'%') {
                    return None;
                }
                p.pos += 1;
            }
            _ => return None,
        }
    }
    Some(())
}

/// `strptime(buf, format, tm)`: returns the first unparsed character, or NULL.
pub(crate) fn strptime(ctx: &mut Ctx<'_>, a: &Args<'_>) -> Result<u32, Trap> {
    let s = ctx.cstr_bytes(a.u32(0))?;
    let fmt = ctx.cstr_bytes(a.u32(1))?;
    let mut p = Parse { s: &s, pos: 0 };
    let mut parsed = Parsed::default();
    if parse_fmt(&mut p, &fmt, &mut parsed).is_none() {
        return Ok(0);
    }
    let consumed = p.pos as u32;
    let old = Tm::read(ctx, a.u32(2))?;
    let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
    let mut year = clamp(old.year as i64 + 1900, 1970, 9999);
    let mut month = clamp(old.mon as i64, 0, 11);
    let mut day = clamp(old.mday as i64, 1, 31);
    let mut hour = clamp(old.hour as i64, 0, 23);
    let mut min = clamp(old.min as i64, 0, 59);
    let mut sec = clamp(old.sec as i64, 0, 59);
    if let Some(y) = parsed.year {
        year = y;
    } else if let Some(yy) = parsed.yy {
        year = match parsed.century {
            Some(c) => c * 100 + yy,
            None => yy + if yy < 69 { 2000 } else { 1900 },
        };
    } else if let Some(c) = parsed.century {
        year = c * 100;
    }
    if let Some(m) = parsed.month {
        month = m;
    }
    if let Some(d) = parsed.day {
        day = d;
    }
    if let Some(yd) = parsed.yday {
        let (_, m, d) = civil_from_days(days_from_civil(year, 1, 1) + yd);
        month = m - 1;
        day = d;
    }
    if let Some(h) = parsed.hour {
        hour = h;
    }
    if let Some(h) = parsed.hour12 {
        hour = h % 12 + if parsed.pm == Some(true) { 12 } else { 0 };
    }
    if let Some(m) = parsed.min {
        min = m;
    }
    if let Some(s) = parsed.sec {
        sec = s;
    }
    let jan1 = days_from_civil(year, 1, 1);
    let jan1_wday = (jan1 + 4).rem_euclid(7);
    if let (Some(week), Some(wd)) = (parsed.week_u, parsed.wday) {
        let offset = if jan1_wday == 0 {
            wd + 7 * (week - 1)
        } else {
            7 - jan1_wday + wd + 7 * (week - 1)
        };
        let (_, m, d) = civil_from_days(jan1 + offset);
        month = m - 1;
        day = d;
    } else if let (Some(week), Some(wd)) = (parsed.week_w, parsed.wday) {
        let wd_mon = (wd + 6) % 7;
        let offset = if jan1_wday == 1 {
            wd_mon + 7 * (week - 1)
        } else {
            7 - jan1_wday + 1 + wd_mon + 7 * (week - 1)
        };
        let (_, m, d) = civil_from_days(jan1 + offset);
        month = m - 1;
        day = d;
    }
    let days = days_from_civil(year, month + 1, 1) + day - 1;
    let t = days * 86400 + hour * 3600 + min * 60 + sec;
    let mut tm = Tm::from_time(t, old.zone);
    tm.gmtoff = old.gmtoff;
    tm.zone = old.zone;
    tm.write(ctx, a.u32(2))?;
    Ok(a.u32(0) + consumed)
}
