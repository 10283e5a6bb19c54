//! The default, fast generator: Philox4x32-10 keyed by the 64-bit seed, with
//! SIMD bulk generation and fast exact samplers (ziggurat normals, Lemire
//! bounded integers, inversion / PTRS Poisson).
//!
//! Its output is NOT NumPy-compatible (see [`super::NumpyRng`] for that); it
//! samples the same distributions, several times faster, and
//! [`FastRng::with_stream`] gives independent streams for parallel workers.
//! The stream for a given `(seed, stream)` is fixed: it does not depend on the
//! SIMD level (all Philox kernels are bit-identical) nor on how draws are
//! batched (`fill_*` equals repeated single calls).

use super::numpy::poisson_ptrs;
use super::philox::fill_blocks;
use super::RandomSource;

/// Words buffered per refill: 64 Philox blocks, i.e. 8 AVX2 iterations.
const BUF_WORDS: usize = 256;
/// Blocks per refill.
const BUF_BLOCKS: u64 = (BUF_WORDS / 4) as u64;

/// Counter-based generator (Philox4x32-10) used in fast mode.
///
/// Key = `[lo32(seed), hi32(seed)]`; block `b` of stream `s` uses counter
/// `[lo32(b), hi32(b), lo32(s), hi32(s)]`. Words are consumed in block order,
/// four per block, starting at block 0.
#[derive(Clone)]
pub struct FastRng {
    /// Philox key (from the seed).
    key: [u32; 2],
    /// Counter words 2 and 3 (stream id).
    stream: u64,
    /// Block index of the first block not yet generated.
    next_block: u64,
    /// Buffered output words.
    buf: [u32; BUF_WORDS],
    /// Index of the next unused word in `buf`; `BUF_WORDS` means empty.
    pos: usize,
}

impl std::fmt::Debug for FastRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastRng")
            .field("key", &self.key)
            .field("stream", &self.stream)
            .field("next_block", &self.next_block)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl FastRng {
    /// Generator for `seed`, stream 0.
    pub fn new(seed: u64) -> Self {
        Self::with_stream(seed, 0)
    }

    /// Generator for `seed` and an independent `stream` (counter words 2 and
    /// 3), e.g. one stream per parallel worker or per image tile: different
    /// streams never share a Philox counter, so their outputs do not overlap.
    pub fn with_stream(seed: u64, stream: u64) -> Self {
        FastRng {
            key: [seed as u32, (seed >> 32) as u32],
            stream,
            next_block: 0,
            buf: [0; BUF_WORDS],
            pos: BUF_WORDS,
        }
    }

    /// Generate the next `BUF_BLOCKS` blocks into the buffer.
    #[cold]
    #[inline(never)]
    fn refill(&mut self) {
        fill_blocks(self.key, self.stream, self.next_block, &mut self.buf);
        self.next_block = self.next_block.wrapping_add(BUF_BLOCKS);
        self.pos = 0;
    }

    /// Next 32-bit output word.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= BUF_WORDS {
            self.refill();
        }
        let v = self.buf[self.pos];
        self.pos += 1;
        v
    }

    /// Next 64 bits: the next two words, first one in the low half.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        if self.pos + 2 <= BUF_WORDS {
            let lo = self.buf[self.pos];
            let hi = self.buf[self.pos + 1];
            self.pos += 2;
            u64::from(lo) | u64::from(hi) << 32
        } else {
            let lo = self.next_u32();
            let hi = self.next_u32();
            u64::from(lo) | u64::from(hi) << 32
        }
    }

    /// Uniform double in [0, 1) with 53 random bits (from two words).
    #[inline]
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform double in (0, 1] (for logarithms).
    #[inline]
    fn next_f64_open0(&mut self) -> f64 {
        1.0 - self.next_f64()
    }

    /// Fill `out` with output words, identical to repeated
    /// [`next_u32`](Self::next_u32). Whole blocks are written straight into
    /// `out` by the SIMD kernel when the internal buffer is empty.
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        let mut out = out;
        // Drain what is buffered.
        let take = out.len().min(BUF_WORDS - self.pos);
        out[..take].copy_from_slice(&self.buf[self.pos..self.pos + take]);
        self.pos += take;
        out = &mut out[take..];
        if out.is_empty() {
            return;
        }
        // Buffer is empty and refills are block-aligned, so the stream
        // continues at `next_block`.
        let whole = out.len() / 4;
        fill_blocks(
            self.key,
            self.stream,
            self.next_block,
            &mut out[..whole * 4],
        );
        self.next_block = self.next_block.wrapping_add(whole as u64);
        for o in &mut out[whole * 4..] {
            *o = self.next_u32();
        }
    }

    /// Standard normal via a 256-layer ziggurat (Marsaglia & Tsang 2000).
    ///
    /// One 64-bit draw per sample in ~99% of cases: bits 0..8 pick the layer,
    /// bit 8 the sign, bits 12..64 the 52-bit abscissa. Exact in distribution
    /// (up to double rounding): the tables below make every layer's area
    /// equal to full double precision.
    #[inline]
    pub fn standard_normal(&mut self) -> f64 {
        loop {
            let bits = self.next_u64();
            let i = (bits & 0xff) as usize;
            let u = (bits >> 12) as f64 * (1.0 / 4_503_599_627_370_496.0);
            let x = u * ZIG_X[i];
            let v = if x < ZIG_X[i + 1] {
                x
            } else {
                match self.zig_slow(i, x) {
                    Some(v) => v,
                    None => continue,
                }
            };
            // Branch-free sign (bit 8 -> sign bit): a 50/50 branch here
            // would mispredict half the time and cost more than the rest.
            return f64::from_bits(v.to_bits() ^ ((bits & 0x100) << 55));
        }
    }

    /// Ziggurat edge cases: the tail beyond `R` (layer 0) and the wedge
    /// rejection test (other layers). `None` means "rejected, start over".
    #[cold]
    #[inline(never)]
    fn zig_slow(&mut self, i: usize, x: f64) -> Option<f64> {
        if i == 0 {
            // Marsaglia's tail method for x > R.
            let r = ZIG_X[1];
            loop {
                let a = -self.next_f64_open0().ln() / r;
                let b = -self.next_f64_open0().ln();
                if b + b > a * a {
                    return Some(r + a);
                }
            }
        }
        let y = ZIG_F[i + 1] + (ZIG_F[i] - ZIG_F[i + 1]) * self.next_f64();
        if y < (-0.5 * x * x).exp() {
            Some(x)
        } else {
            None
        }
    }

    /// Integer uniform in `[lo, hi)`, unbiased (Lemire's nearly-divisionless
    /// method); `hi <= lo` returns `lo` without drawing.
    pub fn randint(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let n = (i128::from(hi) - i128::from(lo)) as u64;
        let off = if n <= u64::from(u32::MAX) {
            let n = n as u32;
            let mut m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) < n {
                let t = n.wrapping_neg() % n;
                while (m as u32) < t {
                    m = u64::from(self.next_u32()) * u64::from(n);
                }
            }
            m >> 32
        } else {
            let mut m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) < n {
                let t = n.wrapping_neg() % n;
                while (m as u64) < t {
                    m = u128::from(self.next_u64()) * u128::from(n);
                }
            }
            (m >> 64) as u64
        };
        lo.wrapping_add(off as i64)
    }

    /// Poisson variate: `lam == 0` (or negative/NaN) → 0 without drawing;
    /// `lam < 10`: inversion by sequential search (one uniform); `lam >= 10`:
    /// PTRS (Hörmann 1993).
    pub fn poisson(&mut self, lam: f64) -> u64 {
        if lam >= 10.0 {
            return poisson_ptrs(lam, || self.next_f64());
        }
        if lam.is_nan() || lam <= 0.0 {
            return 0;
        }
        let p0 = (-lam).exp();
        loop {
            let u = self.next_f64();
            let mut k = 0u64;
            let mut p = p0;
            let mut cdf = p;
            // P(X > 100 | lam < 10) < 1e-60: reaching the cap means `u` fell
            // into the rounding gap above the computed CDF; draw again.
            while u >= cdf && k < 100 {
                k += 1;
                p *= lam / k as f64;
                cdf += p;
            }
            if k < 100 {
                return k;
            }
        }
    }
}

impl RandomSource for FastRng {
    fn is_reference(&self) -> bool {
        false
    }
    fn next_u32(&mut self) -> u32 {
        FastRng::next_u32(self)
    }
    fn next_f64(&mut self) -> f64 {
        FastRng::next_f64(self)
    }
    fn standard_normal(&mut self) -> f64 {
        FastRng::standard_normal(self)
    }
    fn randint(&mut self, lo: i64, hi: i64) -> i64 {
        FastRng::randint(self, lo, hi)
    }
    fn poisson(&mut self, lam: f64) -> u64 {
        FastRng::poisson(self, lam)
    }
    fn fill_u32(&mut self, out: &mut [u32]) {
        FastRng::fill_u32(self, out);
    }
    fn fill_uniform(&mut self, out: &mut [f64], lo: f64, hi: f64) {
        let range = hi - lo;
        for o in out {
            *o = lo + range * FastRng::next_f64(self);
        }
    }
    fn fill_normal(&mut self, out: &mut [f64], mu: f64, sigma: f64) {
        for o in out {
            *o = mu + sigma * FastRng::standard_normal(self);
        }
    }
}

// Ziggurat tables for the unnormalised density f(x) = exp(-x^2/2), 256
// layers of equal area V: X[0] = V/f(R), X[1] = R, X[i+1] =
// f^-1(V/X[i] + f(X[i])), X[256] = 0, F[i] = f(X[i]). Generated at 60 digits
// with mpmath by solving for R (generator script in the test module):
// R = 3.65415288536100877164543, V = 0.004928673233974655347361775.
/// Layer right edges (decreasing).
#[allow(clippy::excessive_precision)]
#[rustfmt::skip]
const ZIG_X: [f64; 257] = [
    3.910757959524916, 3.654152885361009, 3.449278298561431, 3.3202447338398255,
    3.2245750520478014, 3.147889289518001, 3.0835261320021434, 3.0278377917695933,
    2.978603279881843, 2.9343668672088876, 2.894121053613412, 2.8571387308732246,
    2.822877396826443, 2.7909211740019275, 2.760944005279986, 2.7326853590440114,
    2.705933656123062, 2.680514643285745, 2.6562830375767432, 2.6331163936315827,
    2.6109105184888235, 2.5895759867082866, 2.569035452681844, 2.5492215503247833,
    2.530075232159854, 2.5115444416266945, 2.4935830412710467, 2.476149939670523,
    2.459208374334705, 2.442725318200364, 2.4266709849371466, 2.4110184139011195,
    2.3957431197819274, 2.3808227951720857, 2.366237056717291, 2.3519672273791445,
    2.337996148796529, 2.3243080188711325, 2.310888250601372, 2.2977233489028634,
    2.284800802724492, 2.2721089902283818, 2.2596370951737876, 2.247375032947389,
    2.235313384929921, 2.2234433400925107, 2.211756642884161, 2.2002455466112765,
    2.1889027716263607, 2.177721467740293, 2.1666951803543086, 2.1558178198767375,
    2.145083634047889, 2.134487182846017, 2.1240233156895236, 2.113687150686653,
    2.1034740557148774, 2.093379631138792, 2.0833996939983046, 2.073530263518743,
    2.0637675478117323, 2.0541079316506523, 2.0445479652175313, 2.035084353729619,
    2.025713947863854, 2.016433734906204, 2.0072408305605287, 1.9981324713584196,
    1.989106007617438, 1.9801588969004766, 1.9712886979336592, 1.962493064944363,
    1.9537697423846467, 1.9451165600086784, 1.9365314282756947, 1.9280123340526658,
    1.9195573365931882, 1.9111645637712533, 1.9028322085504292, 1.8945585256707047,
    1.8863418285367828, 1.8781804862929958, 1.8700729210712668, 1.8620176053996742,
    1.8540130597602018, 1.8460578502851854, 1.8381505865828067, 1.830289919682757,
    1.8224745400938858, 1.8147031759662826, 1.8069745913508208, 1.7992875845497203,
    1.7916409865521625, 1.7840336595494415, 1.7764644955245228, 1.7689324149112686,
    1.7614363653189102, 1.7539753203176716, 1.7465482782817223, 1.7391542612859117,
    1.7317923140529632, 1.724461502948045, 1.717160915017823, 1.7098896570713018,
    1.7026468547999232, 1.6954316519345616, 1.6882432094371953, 1.681080704725174,
    1.673943330926125, 1.6668302961616654, 1.6597408228581825, 1.652674147083056,
    1.6456295179047824, 1.6386061967755476, 1.6316034569348736, 1.6246205828330347,
    1.6176568695730156, 1.6107116223698301, 1.6037841560260946, 1.5968737944227882,
    1.5899798700241907, 1.5831017233960292, 1.5762387027359064, 1.5693901634151237,
    1.562555467531045, 1.5557339834691764, 1.5489250854741734, 1.5421281532290019,
    1.535342571441514, 1.5285677294377125, 1.521803020760998, 1.5150478427767147,
    1.5083015962813116, 1.5015636851154637, 1.4948335157804935, 1.4881104970574475,
    1.4813940396281873, 1.4746835556978555, 1.4679784586180795, 1.4612781625102755,
    1.4545820818884103, 1.447889631280576, 1.441200224848724, 1.4345132760058923,
    1.427828197030256, 1.421144398675309, 1.4144612897754711, 1.407778276846399,
    1.401094763679251, 1.394410150928141, 1.3877238356899761, 1.3810352110758555,
    1.3743436657731662, 1.367648583597476, 1.360949343033283, 1.354245316762635,
    1.3475358711805872, 1.340820365896404, 1.33409815321936, 1.3273685776279258,
    1.3206309752210563, 1.3138846731502205, 1.3071289890307312, 1.3003632303308372,
    1.2935866937369478, 1.2867986644932436, 1.279998415713818, 1.2731852076653563,
    1.2663582870182295, 1.2595168860637143, 1.2526602218948972, 1.2457874955486272,
    1.2388978911056874, 1.2319905747461362, 1.2250646937565308, 1.2181193754854815,
    1.211153726243699, 1.2041668301443815, 1.1971577478794415, 1.190125515426692,
    1.1830691426826867, 1.175987612015452, 1.168879876730833, 1.1617448594456115,
    1.1545814503599277, 1.147388505420849, 1.1401648443681514, 1.1329092486525338,
    1.1256204592155334, 1.118297174119345, 1.1109380460135758, 1.1035416794246398,
    1.0961066278520215, 1.0886313906539797, 1.0811144097034038, 1.0735540657924363,
    1.0659486747621225, 1.0582964833306752, 1.05059566459093, 1.042844313144149,
    1.035040439833441, 1.0271819660356458, 1.0192667174654841, 1.0112924174399958,
    1.003256679544673, 0.995156999635091, 0.9869907470990624, 0.9787551552942246,
    0.9704473110642244, 0.9620641432230406, 0.953602409881086, 0.9450586844681654,
    0.9364293402865751, 0.9277105334020002, 0.9188981836495906, 0.9099879534967185,
    0.9009752244612218, 0.8918550707329416, 0.8826222295851656, 0.8732710680888608,
    0.8637955455533088, 0.8541891710081638, 0.8444449549091539, 0.8345553540863822,
    0.8245122087522921, 0.8143066701352152, 0.8039291169899713, 0.7933690588406233,
    0.7826150233072331, 0.7716544242245681, 0.7604734064301081, 0.7490566620178153,
    0.7373872114342956, 0.7254461409099996, 0.7132122851909759, 0.7006618411068151,
    0.6877678927957885, 0.6744998228372938, 0.6608225742444197, 0.6466957148949938,
    0.6320722363860611, 0.6168969900077514, 0.6011046177559927, 0.5846167661063794,
    0.5673382570538188, 0.5491517023271651, 0.5299097206615582, 0.5094233296020918,
    0.487443966139236, 0.46363433679088223, 0.4375184022078717, 0.40838913461199117,
    0.37512133287838056, 0.33573751921442524, 0.2861745917920725, 0.2152418959848817,
    0.0,
];
/// Density at the layer edges, exp(-X[i]^2/2) (increasing).
#[allow(clippy::excessive_precision)]
#[rustfmt::skip]
const ZIG_F: [f64; 257] = [
    0.00047746776460938755, 0.0012602859304985975, 0.002609072746102163, 0.0040379725933630305,
    0.005522403299250998, 0.007050875471373227, 0.008616582769398732, 0.010214971439701471,
    0.01184275785790789, 0.01349745060173988, 0.015177088307935327, 0.01688008315254317,
    0.018605121275724647, 0.02035109623004452, 0.022117062707308868, 0.023902203305795882,
    0.025705804008548896, 0.027527235669603085, 0.029365939758133317, 0.03122141719192025,
    0.03309321945857852, 0.034980941461716084, 0.03688421568856729, 0.03880270740452612,
    0.04073611065594093, 0.04268414491647444, 0.04464655225129445, 0.04662309490193037,
    0.04861355321586853, 0.05061772386094777, 0.05263541827679218, 0.05466646132488892,
    0.0567106901062029, 0.058767952920933765, 0.060838108349539864, 0.06292102443775813,
    0.06501657797124286, 0.0671246538277885, 0.06924514439700677, 0.07137794905889037,
    0.07352297371398127, 0.07568013035892708, 0.07784933670209605, 0.08003051581466306,
    0.08222359581320286, 0.08442850957035337, 0.08664519445055796, 0.0888735920682758,
    0.09111364806637363, 0.09336531191269087, 0.09562853671300883, 0.0979032790388623,
    0.10018949876880982, 0.1024871589419351, 0.1047962256224869, 0.10711666777468365,
    0.10944845714681165, 0.111791568163838, 0.11414597782783836, 0.11651166562561081,
    0.11888861344290999, 0.12127680548479022, 0.12367622820159656, 0.12608687022018586,
    0.12850872227999954, 0.13094177717364433, 0.13338602969166913, 0.13584147657125373,
    0.13830811644855073, 0.1407859498144447, 0.14327497897351343, 0.14577520800599406,
    0.14828664273257455, 0.1508092906818457, 0.15334316106026286, 0.15588826472447923,
    0.1584446141559243, 0.1610122234375111, 0.16359110823236572, 0.16618128576448207,
    0.1687827748012115, 0.17139559563750595, 0.17401977008183878, 0.176655321443735,
    0.17930227452284767, 0.18196065559952257, 0.18463049242679927, 0.18731181422380028,
    0.19000465167046499, 0.19270903690358915, 0.19542500351413428, 0.19815258654577514,
    0.2008918224946566, 0.20364274931033488, 0.20640540639788074, 0.20917983462112502,
    0.21196607630703018, 0.2147641752511736, 0.21757417672433116, 0.22039612748015197,
    0.22323007576391746, 0.22607607132238022, 0.22893416541468026, 0.2318044108243386,
    0.23468686187232993, 0.23758157443123798, 0.24048860594050042, 0.24340801542275015,
    0.24633986350126366, 0.24928421241852827, 0.25224112605594196, 0.2552106699546617,
    0.25819291133761896, 0.2611879191327209, 0.2641957639972608, 0.26721651834356114,
    0.27025025636587524, 0.2732970540685769, 0.2763569892956681, 0.2794301417616378,
    0.28251659308370747, 0.2856164268155016, 0.28872972848218276, 0.29185658561709504,
    0.2949970877999617, 0.29815132669668537, 0.30131939610080294, 0.3045013919766498,
    0.30769741250429195, 0.31090755812628634, 0.3141319315963371, 0.3173706380299135,
    0.32062378495690536, 0.3238914823763911, 0.32717384281360135, 0.3304709813791634,
    0.3337830158307183, 0.33711006663700593, 0.3404522570445217, 0.3438097131468506,
    0.34718256395679353, 0.35057094148140594, 0.3539749808000766, 0.3573948201457803,
    0.3608306009896478, 0.3642824681290038, 0.3677505697790323, 0.3712350576682393,
    0.3747360871378909, 0.37825381724561896, 0.38178841087339344, 0.3853400348400771,
    0.3889088600187886, 0.3924950614593154, 0.39609881851583223, 0.39972031498019706,
    0.40335973922111434, 0.4070172843294732, 0.41069314827018805, 0.41438753404089096,
    0.418100649837848, 0.4218327092294958, 0.42558393133802186, 0.4293545410294413,
    0.43314476911265215, 0.4369548525479854, 0.4407850346658038, 0.4446355653957392,
    0.4485067015072028, 0.4523987068618483, 0.45631185267871616, 0.46024641781284253,
    0.464202689048174, 0.46818096140569326, 0.4721815384677298, 0.47620473271950553,
    0.4802508659090465, 0.48432026942668294, 0.48841328470545764, 0.4925302636438682,
    0.4966715690524894, 0.5008375751261485, 0.5050286679434679, 0.5092452459957476,
    0.5134877207473266, 0.5177565172297559, 0.5220520746723215, 0.526374847171684,
    0.5307253044036616, 0.5351039323804572, 0.5395112342569517, 0.5439477311900258,
    0.5484139632552655, 0.552910490425832, 0.5574378936187656, 0.561996775814524,
    0.566587763256164, 0.5712115067352528, 0.5758686829723533, 0.5805599961007905,
    0.5852861792633709, 0.5900479963328256, 0.594846243767987, 0.5996817526191249,
    0.6045553906974674, 0.6094680649257731, 0.6144207238889136, 0.6194143606058341,
    0.6244500155470262, 0.6295287799248364, 0.6346517992876233, 0.6398202774530563,
    0.6450354808208221, 0.6502987431108165, 0.655611470579697, 0.6609751477766629,
    0.6663913439087499, 0.6718617198970818, 0.6773880362187731, 0.6829721616449944,
    0.6886160830046714, 0.6943219161261164, 0.7000919181365113, 0.7059285013327539,
    0.7118342488782481, 0.7178119326307216, 0.7238645334686298, 0.7299952645614758,
    0.7362075981268623, 0.7425052963401507, 0.7488924472191565, 0.7553735065070958,
    0.7619533468367949, 0.7686373157984858, 0.7754313049811867, 0.7823418326548021,
    0.7893761435660241, 0.7965423304229586, 0.8038494831709639, 0.8113078743126559,
    0.818929191603702, 0.826726833946221, 0.8347162929868832, 0.842915653112204,
    0.8513462584586777, 0.8600336211963312, 0.8690086880368567, 0.8783096558089171,
    0.887984660755833, 0.8980959218983431, 0.9087264400521305, 0.9199915050393467,
    0.9320600759592301, 0.9451989534422993, 0.9598790918001063, 0.9771017012676713,
    1.0,
];

#[cfg(test)]
mod tests {
    //! Statistical checks use fixed seeds, so they are deterministic; bounds
    //! are ~5-6 standard errors wide.
    //!
    //! Ziggurat table generator (mpmath 1.4, prints the two tables above):
    //! ```python
    //! from mpmath import mp, mpf, exp, log, sqrt, erfc, pi
    //! mp.dps = 60
    //! f = lambda x: exp(-x * x / 2)
    //! finv = lambda y: sqrt(-2 * log(y))
    //! def tables(R):
    //!     V = R * f(R) + sqrt(pi / 2) * erfc(R / sqrt(2))
    //!     xs = [V / f(R), R]
    //!     for i in range(1, 255):
    //!         y = V / xs[-1] + f(xs[-1])
    //!         if y >= 1: return None, V, i
    //!         xs.append(finv(y))
    //!     return xs, V, xs[-1] * (1 - f(xs[-1])) - V
    //! lo, hi = mpf('3.6'), mpf('3.7')
    //! for _ in range(200):
    //!     mid = (lo + hi) / 2
    //!     xs, V, r = tables(mid)
    //!     if xs is None or r <= 0: lo = mid
    //!     else: hi = mid
    //! xs, V, r = tables(lo); xs.append(mpf(0))
    //! print([repr(float(v)) for v in xs]); print([repr(float(f(v))) for v in xs])
    //! ```
    use super::*;
    use crate::rng::philox::philox4x32_10;
    use sha2::{Digest, Sha256};

    /// ln(k!) by summation (independent of `loggam`).
    fn ln_factorial(k: u64) -> f64 {
        (2..=k).map(|i| (i as f64).ln()).sum()
    }

    fn mean_var(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
        (m, var)
    }

    #[test]
    fn stream_is_philox_of_seed_and_stream() {
        let seed = 0x0123_4567_89ab_cdef_u64;
        let mut r = FastRng::new(seed);
        let key = [0x89ab_cdef, 0x0123_4567];
        for b in 0..70u32 {
            let want = philox4x32_10([b, 0, 0, 0], key);
            for w in want {
                assert_eq!(r.next_u32(), w);
            }
        }
        let mut s = FastRng::with_stream(seed, 0x0000_0009_0000_0005);
        assert_eq!(
            [s.next_u32(), s.next_u32(), s.next_u32(), s.next_u32()],
            philox4x32_10([0, 0, 5, 9], key)
        );
    }

    #[test]
    fn determinism_and_independence() {
        let draw = |mut r: FastRng| -> Vec<u32> { (0..1000).map(|_| r.next_u32()).collect() };
        assert_eq!(draw(FastRng::new(7)), draw(FastRng::new(7)));
        assert_ne!(draw(FastRng::new(7)), draw(FastRng::new(8)));
        assert_ne!(draw(FastRng::new(7)), draw(FastRng::new(7 | 1 << 32)));
        assert_ne!(
            draw(FastRng::with_stream(7, 0)),
            draw(FastRng::with_stream(7, 1))
        );
        assert_eq!(draw(FastRng::new(7)), draw(FastRng::with_stream(7, 0)));
        let mut a = FastRng::new(99);
        let mut b = FastRng::new(99);
        for _ in 0..10_000 {
            assert_eq!(a.standard_normal().to_bits(), b.standard_normal().to_bits());
        }
    }

    #[test]
    fn fill_u32_matches_next_u32() {
        for pre in [0usize, 1, 3, 4, 255, 256, 257, 300] {
            for len in [0usize, 1, 2, 3, 5, 31, 255, 256, 257, 1000, 4099] {
                let mut a = FastRng::with_stream(5, 6);
                let mut b = FastRng::with_stream(5, 6);
                for _ in 0..pre {
                    a.next_u32();
                    b.next_u32();
                }
                let mut out = vec![0u32; len];
                RandomSource::fill_u32(&mut a, &mut out);
                for (i, &w) in out.iter().enumerate() {
                    assert_eq!(w, b.next_u32(), "pre {pre} len {len} i {i}");
                }
                for _ in 0..600 {
                    assert_eq!(a.next_u32(), b.next_u32(), "after: pre {pre} len {len}");
                }
            }
        }
    }

    #[test]
    fn fill_float_methods_match_single_calls() {
        let mut a = FastRng::new(11);
        let mut b = FastRng::new(11);
        a.next_u32();
        b.next_u32(); // odd word position
        let mut v = vec![0.0; 3001];
        RandomSource::fill_normal(&mut a, &mut v, 0.5, 2.0);
        for &x in &v {
            assert_eq!(
                x.to_bits(),
                RandomSource::normal(&mut b, 0.5, 2.0).to_bits()
            );
        }
        RandomSource::fill_uniform(&mut a, &mut v, -1.0, 4.0);
        for &x in &v {
            assert_eq!(
                x.to_bits(),
                RandomSource::uniform(&mut b, -1.0, 4.0).to_bits()
            );
        }
        assert_eq!(a.next_u32(), b.next_u32());
    }

    #[test]
    fn uniform_statistics() {
        let mut r = FastRng::new(1);
        let mut v = vec![0.0; 1 << 20];
        RandomSource::fill_uniform(&mut r, &mut v, 0.0, 1.0);
        assert!(v.iter().all(|&x| (0.0..1.0).contains(&x)));
        let (m, var) = mean_var(&v);
        assert!((m - 0.5).abs() < 1.5e-3, "mean {m}");
        assert!((var - 1.0 / 12.0).abs() < 1e-3, "var {var}");
        // All 53 bits are used: the low bit of the mantissa varies.
        let odd = v
            .iter()
            .filter(|&&x| (x * 9_007_199_254_740_992.0) as u64 & 1 == 1)
            .count();
        assert!((odd as f64 / v.len() as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn normal_statistics_and_cdf() {
        let n = 1usize << 22;
        let mut r = FastRng::new(2024);
        let mut v = vec![0.0; n];
        RandomSource::fill_normal(&mut r, &mut v, 0.0, 1.0);
        let (m, var) = mean_var(&v);
        assert!((m).abs() < 3e-3, "mean {m}");
        assert!((var - 1.0).abs() < 4e-3, "var {var}");
        let skew = v.iter().map(|x| x * x * x).sum::<f64>() / n as f64;
        let kurt = v.iter().map(|x| x * x * x * x).sum::<f64>() / n as f64;
        assert!(skew.abs() < 0.01, "skew {skew}");
        assert!((kurt - 3.0).abs() < 0.03, "kurtosis {kurt}");
        // Empirical CDF against Phi(x) = 0.5 erfc(-x / sqrt 2) (Python math.erfc);
        // 3.654... is the ziggurat tail start R.
        #[allow(clippy::excessive_precision)]
        let phi = [
            (-4.0, 3.1671241833119965e-05),
            (-3.5, 0.00023262907903552504),
            (-3.0, 0.0013498980316300957),
            (-2.5, 0.006209665325776139),
            (-2.0, 0.02275013194817922),
            (-1.5, 0.06680720126885809),
            (-1.0, 0.15865525393145707),
            (-0.5, 0.3085375387259869),
            (0.0, 0.5),
            (0.25, 0.5987063256829237),
            (0.5, 0.6914624612740131),
            (1.0, 0.8413447460685429),
            (1.5, 0.9331927987311419),
            (2.0, 0.9772498680518208),
            (2.5, 0.9937903346742238),
            (3.0, 0.9986501019683699),
            (3.5, 0.9997673709209645),
            (3.654152885361009, 0.999870983756173),
            (4.0, 0.9999683287581669),
        ];
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        for (x, p) in phi {
            let below = sorted.partition_point(|&s| s < x) as f64 / n as f64;
            let se = (p * (1.0 - p) / n as f64).sqrt();
            assert!((below - p).abs() < 6.0 * se, "x {x}: {below} vs {p}");
        }
        // Tail beyond R on both sides (goes through the tail sampler).
        let tail = v.iter().filter(|x| x.abs() > 3.654152885361009).count() as f64 / n as f64;
        let p = 2.0 * (1.0 - 0.999870983756173);
        assert!(
            (tail - p).abs() < 6.0 * (p / n as f64).sqrt(),
            "tail {tail} vs {p}"
        );
        assert!(v.iter().any(|&x| x > 4.5) && v.iter().any(|&x| x < -4.5));
    }

    #[test]
    fn ziggurat_tables_are_consistent() {
        let r = ZIG_X[1];
        let v = r * (-0.5 * r * r).exp() + (ZIG_X[0] - r) * ZIG_F[1];
        for i in 0..256 {
            assert!(ZIG_X[i] > ZIG_X[i + 1] && ZIG_F[i] < ZIG_F[i + 1]);
            assert!((ZIG_F[i] - (-0.5 * ZIG_X[i] * ZIG_X[i]).exp()).abs() < 1e-15);
            if i >= 1 {
                let area = ZIG_X[i] * (ZIG_F[i + 1] - ZIG_F[i]);
                assert!((area / v - 1.0).abs() < 1e-9, "layer {i} area {area}");
            }
        }
        assert_eq!(ZIG_X[256], 0.0);
        assert_eq!(ZIG_F[256], 1.0);
    }

    #[test]
    fn randint_range_and_uniformity() {
        let mut r = FastRng::new(3);
        let n = 600_000;
        let mut counts = [0u32; 6];
        for _ in 0..n {
            let v = r.randint(-3, 3);
            assert!((-3..3).contains(&v));
            counts[(v + 3) as usize] += 1;
        }
        let e = n as f64 / 6.0;
        for c in counts {
            assert!(
                (f64::from(c) - e).abs() < 6.0 * (e * 5.0 / 6.0).sqrt(),
                "{counts:?}"
            );
        }
        // Range with a large rejection zone: 3 * 2^30 (n > 2^31).
        let big = 3i64 << 30;
        let mut thirds = [0u32; 3];
        for _ in 0..300_000 {
            let v = r.randint(0, big);
            assert!((0..big).contains(&v));
            thirds[(v / (1 << 30)) as usize] += 1;
        }
        for c in thirds {
            assert!((f64::from(c) - 100_000.0).abs() < 1_500.0, "{thirds:?}");
        }
        // 64-bit path and extreme bounds.
        let mut sum = 0.0;
        for _ in 0..100_000 {
            let v = r.randint(10, 10 + (3 << 40));
            assert!((10..10 + (3 << 40)).contains(&v));
            sum += (v - 10) as f64 / (3u64 << 40) as f64;
        }
        assert!((sum / 100_000.0 - 0.5).abs() < 0.006);
        for _ in 0..1000 {
            let v = r.randint(i64::MIN, i64::MAX);
            assert!(v < i64::MAX);
        }
        assert_eq!(r.randint(5, 6), 5);
        // Invalid range: no draw.
        let mut a = r.clone();
        assert_eq!(a.randint(5, 5), 5);
        assert_eq!(a.randint(5, -5), 5);
        assert_eq!(a.next_u32(), r.next_u32());
    }

    #[test]
    fn poisson_statistics() {
        let mut r = FastRng::new(77);
        // Zero / invalid lambda consume nothing.
        let mut a = r.clone();
        assert_eq!(a.poisson(0.0), 0);
        assert_eq!(a.poisson(-1.0), 0);
        assert_eq!(a.poisson(f64::NAN), 0);
        assert_eq!(a.next_u32(), r.next_u32());
        let n = 200_000usize;
        for lam in [0.05, 0.5, 3.7, 9.99, 10.0, 25.5, 60.0, 1000.5] {
            let v: Vec<u64> = (0..n).map(|_| r.poisson(lam)).collect();
            let f: Vec<f64> = v.iter().map(|&k| k as f64).collect();
            let (m, var) = mean_var(&f);
            let se_m = (lam / n as f64).sqrt();
            assert!((m - lam).abs() < 6.0 * se_m, "lam {lam}: mean {m}");
            // Var of the sample variance ~ (2 lam^2 + lam) / n.
            let se_v = ((2.0 * lam * lam + lam) / n as f64).sqrt();
            assert!((var - lam).abs() < 6.0 * se_v, "lam {lam}: var {var}");
            // Probability mass near the mode against the exact pmf.
            let mode = lam.floor() as u64;
            for k in mode.saturating_sub(2)..=mode + 2 {
                let p = (-lam + k as f64 * lam.ln() - ln_factorial(k)).exp();
                let got = v.iter().filter(|&&x| x == k).count() as f64 / n as f64;
                let se = (p * (1.0 - p) / n as f64).sqrt();
                assert!(
                    (got - p).abs() < 6.0 * se + 1e-6,
                    "lam {lam} k {k}: {got} vs {p}"
                );
            }
        }
    }

    /// Pins the stream so that accidental changes to the generator or the
    /// samplers are noticed (values produced by this implementation).
    #[test]
    fn stream_regression() {
        let mut r = FastRng::new(0);
        assert_eq!(
            [r.next_u32(), r.next_u32(), r.next_u32(), r.next_u32()],
            [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
        );
        let mut h = Sha256::new();
        let mut r = FastRng::new(0x5eed);
        for _ in 0..20_000 {
            h.update(r.standard_normal().to_le_bytes());
            h.update(r.next_f64().to_le_bytes());
            h.update(r.randint(-7, 7).to_le_bytes());
            h.update(r.poisson(4.2).to_le_bytes());
            h.update(r.poisson(42.0).to_le_bytes());
        }
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "9e1dd7d0f125da6718b89944128c9123461e9ca5d16ef3aaf2b5e6a65f6b9599"
        );
    }

    /// Two-sample Kolmogorov-Smirnov test of the ziggurat against NumPy's
    /// polar method (an independent exact sampler).
    #[test]
    fn ziggurat_matches_polar_method_ks() {
        let n = 1usize << 21;
        let mut z = vec![0.0; n];
        let mut p = vec![0.0; n];
        RandomSource::fill_normal(&mut FastRng::new(4), &mut z, 0.0, 1.0);
        RandomSource::fill_normal(&mut crate::rng::NumpyRng::new(4), &mut p, 0.0, 1.0);
        z.sort_by(f64::total_cmp);
        p.sort_by(f64::total_cmp);
        let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
        while i < n && j < n {
            if z[i] <= p[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 - j as f64).abs() / n as f64);
        }
        // Critical value for alpha = 1e-6: sqrt(-ln(alpha / 2) / 2 * 2 / n).
        let crit = ((-(0.5e-6f64).ln()) / n as f64).sqrt();
        assert!(d < crit, "KS D = {d}, critical {crit}");
    }
}
